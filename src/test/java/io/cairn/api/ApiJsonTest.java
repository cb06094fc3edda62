package io.cairn.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.store.CairnException;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class ApiJsonTest {
    private static final ReadOptions LOCAL = new ReadOptions(Consistency.LOCAL, 3);

    @Test
    void everyRequestRoundTrips() {
        List<ApiRequest> all = List.of(
                new ApiRequest.GetDoc("c", "k/1", LOCAL),
                new ApiRequest.ListDocs("c", "p", "a", 10, ReadOptions.DEFAULT),
                new ApiRequest.PutDoc("c", "k", "{\"n\": 1e400}", 0L),
                new ApiRequest.PutDoc("c", "k", "{}", null),
                new ApiRequest.InsertDoc("c", "{}"),
                new ApiRequest.PatchDoc("c", "k", "{\"a\":null}", 5L),
                new ApiRequest.DeleteDoc("c", "k", null),
                new ApiRequest.Query("c", "{\"index\":\"i\",\"eq\":1}", LOCAL),
                new ApiRequest.Txn("{\"ops\":[]}"),
                new ApiRequest.PutCollection("c", null),
                new ApiRequest.GetCollection("c", ReadOptions.DEFAULT),
                new ApiRequest.ListCollections(LOCAL),
                new ApiRequest.DropCollection("c"),
                new ApiRequest.PutIndex("c", "i", "{\"fields\":[\"a\"]}"),
                new ApiRequest.ListIndexes("c", ReadOptions.DEFAULT),
                new ApiRequest.DropIndex("c", "i"),
                new ApiRequest.ClusterStatus(),
                new ApiRequest.AddMember("n4", "h:1", "h:2"),
                new ApiRequest.RemoveMember("n4"),
                new ApiRequest.TransferLeader("n2"),
                new ApiRequest.Snapshot());
        for (ApiRequest r : all) {
            JsonObject wire = new JsonObject(ApiJson.toJson(r).encode());
            assertThat(ApiJson.fromJson(wire)).isEqualTo(r);
        }
    }

    @Test
    void busClientsMayGiveJsonValues() {
        ApiRequest r = ApiJson.fromJson(new JsonObject().put("op", "put").put("collection", "c").put("key", "k")
                .put("doc", new JsonObject().put("a", 1)).put("ifRev", 4));
        assertThat(r).isEqualTo(new ApiRequest.PutDoc("c", "k", "{\"a\":1}", 4L));
    }

    @Test
    void badRequestsNameTheField() {
        assertThatThrownBy(() -> ApiJson.fromJson(new JsonObject().put("op", "fly")))
                .isInstanceOf(CairnException.class).hasMessageContaining("unknown op");
        assertThatThrownBy(() -> ApiJson.fromJson(new JsonObject().put("op", "get").put("collection", "c")))
                .hasMessageContaining("'key'");
        assertThatThrownBy(() -> ApiJson.fromJson(new JsonObject().put("op", "put").put("collection", "c")
                .put("key", "k").put("doc", 3))).hasMessageContaining("'doc'");
    }
}
