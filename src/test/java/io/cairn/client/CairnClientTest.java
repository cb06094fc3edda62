package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.Await;
import io.cairn.Cairn;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cairn embedded in an application's Vert.x instance, used through CairnClient: same answers as HTTP. */
class CairnClientTest {
    @TempDir Path dir;
    private Vertx vertx;
    private Cairn cairn;
    private WebClient http;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        var config = ConfigLoader.load(dir, null, Map.of("CAIRN_DATA_DIR", dir.resolve("data").toString(),
                "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_RAFT_PORT", "0",
                "CAIRN_TICK_MS", "20", "CAIRN_API_INSTANCES", "1"));
        cairn = Cairn.start(vertx, config).await(60, TimeUnit.SECONDS);
        http = WebClient.create(vertx);
        Await.until("leadership", () -> cairn.node().state().isLeader());
    }

    @AfterEach
    void stop() throws Exception {
        cairn.stop().await(30, TimeUnit.SECONDS);
        vertx.close().await(30, TimeUnit.SECONDS);
    }

    private HttpResponse<Buffer> call(HttpMethod m, String path, String body) throws Exception {
        var req = http.request(m, cairn.httpPort(), "127.0.0.1", path).putHeader("Content-Type", "application/json");
        return (body == null ? req.send() : req.sendBuffer(Buffer.buffer(body))).await(30, TimeUnit.SECONDS);
    }

    @Test
    void exampleVerticleGetsTheAnswersOfHttp() throws Exception {
        ExampleVerticle example = new ExampleVerticle();
        vertx.deployVerticle(example).await(30, TimeUnit.SECONDS);
        JsonObject seen = example.seen;

        assertThat(seen.getJsonObject("put").getString("key")).isEqualTo("o1");
        assertThat(seen.getJsonObject("get")).isEqualTo(new JsonObject().put("total", 30).put("customer", "ann"));
        assertThat(seen.getJsonObject("insert").getString("key")).hasSize(20);
        assertThat(seen.getJsonObject("query").getJsonArray("docs")).hasSize(2);
        assertThat(seen.getLong("deleteRev")).isGreaterThan(seen.getJsonObject("put").getLong("rev"));

        // the same calls over HTTP give the same codes
        assertThat(seen.getString("staleWrite")).isEqualTo("precondition_failed");
        var r = call(HttpMethod.PUT, "/v1/collections/orders/docs/o2", "{}");
        assertThat(call(HttpMethod.PUT, "/v1/collections/orders/docs/o2", "{}").statusCode()).isEqualTo(200);
        var stale = http.request(HttpMethod.PUT, cairn.httpPort(), "127.0.0.1", "/v1/collections/orders/docs/o2")
                .putHeader("If-Match", "\"1\"").sendBuffer(Buffer.buffer("{}")).await(30, TimeUnit.SECONDS);
        assertThat(errorOf(stale)).isEqualTo(seen.getString("staleWrite"));
        assertThat(errorOf(call(HttpMethod.GET, "/v1/collections/orders/docs/nope", null))).isEqualTo(seen.getString("missing"));
        var txn = call(HttpMethod.POST, "/v1/txn", "{\"ops\":[{\"op\":\"check\",\"collection\":\"orders\",\"key\":\"o9\",\"rev\":5}]}");
        assertThat(errorOf(txn)).isEqualTo(seen.getString("txn"));
        assertThat(r.statusCode()).isEqualTo(201);

        var httpQuery = new JsonObject(call(HttpMethod.POST, "/v1/collections/orders/query",
                "{\"index\":\"by_total\",\"range\":{\"gte\":[10]}}").bodyAsString());
        var busQuery = CairnClient.create(vertx).query("orders", new JsonObject().put("index", "by_total")
                .put("range", new JsonObject().put("gte", new JsonArray().add(10)))).await(30, TimeUnit.SECONDS);
        assertThat(busQuery).isEqualTo(httpQuery);
    }

    private static String errorOf(HttpResponse<Buffer> r) {
        return new JsonObject(r.bodyAsString()).getJsonObject("error").getString("code");
    }

    @Test
    void failuresCarryTheHttpStatus() throws Exception {
        CairnClient client = CairnClient.create(vertx);
        var failure = client.get("orders", "nope").transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause()))
                .await(30, TimeUnit.SECONDS);
        assertThat(failure).isInstanceOf(ReplyException.class);
        assertThat(((ReplyException) failure).failureCode()).isEqualTo(404);
        var bad = client.send(new JsonObject().put("op", "fly")).transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause()))
                .await(30, TimeUnit.SECONDS);
        assertThat(((ReplyException) bad).failureCode()).isEqualTo(400);
    }

    @Test
    void changeStreamAsReadStreamResumesExactly() throws Exception {
        CairnClient client = CairnClient.create(vertx);
        long first = client.put("feed", "a", new JsonObject().put("n", 1)).await(30, TimeUnit.SECONDS).getLong("rev");
        List<JsonObject> got = new CopyOnWriteArrayList<>();
        ReadStream<JsonObject> stream = client.changes(first - 1, "feed", null, false);
        vertx.runOnContext(v -> stream.handler(got::add));
        for (int i = 2; i <= 5; i++) client.put("feed", "k" + i, new JsonObject().put("n", i)).await(30, TimeUnit.SECONDS);
        Await.until("5 changes", () -> got.size() >= 5);
        assertThat(got).extracting(c -> c.getJsonObject("doc").getInteger("n")).containsExactly(1, 2, 3, 4, 5);
        vertx.runOnContext(v -> stream.handler(null));

        long resumeAfter = got.get(2).getLong("rev");
        List<JsonObject> resumed = new CopyOnWriteArrayList<>();
        ReadStream<JsonObject> again = client.changes(resumeAfter, "feed", null, false);
        vertx.runOnContext(v -> again.handler(resumed::add));
        Await.until("2 changes after resuming", () -> resumed.size() >= 2);
        assertThat(resumed).extracting(c -> c.getJsonObject("doc").getInteger("n")).containsExactly(4, 5);
        vertx.runOnContext(v -> again.handler(null));
        assertThat(Files.exists(dir.resolve("data/state.db"))).isTrue();
    }
}
