package io.cairn.it;

import static io.cairn.it.TestCluster.errorCode;
import static io.cairn.it.TestCluster.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every API call of API.md in scope, on a 3-node cluster, through the leader and through a follower. */
class ClusterApiTest {
    private static TestCluster cluster;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, Map.of());
        cluster.awaitLeader();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) cluster.close();
    }

    private static String node(String via) {
        return via.equals("leader") ? cluster.awaitLeader() : cluster.follower();
    }

    @ParameterizedTest
    @ValueSource(strings = {"leader", "follower"})
    void documents(String via) {
        String n = node(via);
        String c = "docs_" + via;
        var r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/docs/a%2Fb", "{\"name\":\"Ann\",\"age\":30}");
        assertThat(r.statusCode()).isEqualTo(201);
        long rev = json(r).getLong("rev");
        assertThat(json(r).getString("key")).isEqualTo("a/b");

        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/docs/a%2Fb", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r)).isEqualTo(new JsonObject().put("name", "Ann").put("age", 30));
        assertThat(r.getHeader("ETag")).isEqualTo("\"" + rev + "\"");
        assertThat(Long.parseLong(r.getHeader("X-Cairn-Rev"))).isGreaterThanOrEqualTo(rev);

        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/docs/a%2Fb", "{\"name\":\"Ann\",\"age\":31}");
        assertThat(r.statusCode()).isEqualTo(200);
        long rev2 = json(r).getLong("rev");
        assertThat(rev2).isGreaterThan(rev);

        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/docs/a%2Fb", "{}", "If-Match", "\"" + rev + "\"");
        assertThat(r.statusCode()).isEqualTo(412);
        assertThat(errorCode(r)).isEqualTo("precondition_failed");
        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/docs/a%2Fb", "{}", "If-None-Match", "*");
        assertThat(r.statusCode()).isEqualTo(412);

        r = cluster.call(n, HttpMethod.PATCH, "/v1/collections/" + c + "/docs/a%2Fb", "{\"age\":null,\"city\":\"Oslo\"}",
                "If-Match", "\"" + rev2 + "\"");
        assertThat(r.statusCode()).isEqualTo(200);
        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/docs/a%2Fb", null);
        assertThat(json(r)).isEqualTo(new JsonObject().put("name", "Ann").put("city", "Oslo"));

        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/docs", "{\"x\":1}");
        assertThat(r.statusCode()).isEqualTo(201);
        String k1 = json(r).getString("key");
        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/docs", "{\"x\":2}");
        String k2 = json(r).getString("key");
        assertThat(k2).isGreaterThan(k1);

        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/docs?limit=2", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonArray docs = json(r).getJsonArray("docs");
        assertThat(docs).hasSize(2);
        String next = json(r).getString("next");
        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/docs?limit=2&after=" + next, null);
        assertThat(json(r).getJsonArray("docs")).hasSize(1);

        r = cluster.call(n, HttpMethod.DELETE, "/v1/collections/" + c + "/docs/a%2Fb", null);
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.getHeader("X-Cairn-Rev")).isNotNull();
        r = cluster.call(n, HttpMethod.DELETE, "/v1/collections/" + c + "/docs/a%2Fb", null);
        assertThat(r.statusCode()).isEqualTo(404);
        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/docs/a%2Fb", null);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(errorCode(r)).isEqualTo("not_found");
    }

    @ParameterizedTest
    @ValueSource(strings = {"leader", "follower"})
    void catalogIndexesAndQueries(String via) {
        String n = node(via);
        String c = "people_" + via;
        var r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c,
                "{\"indexes\":[{\"name\":\"by_age\",\"fields\":[\"age\"],\"unique\":false}]}");
        assertThat(r.statusCode()).isEqualTo(201);
        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c,
                "{\"indexes\":[{\"name\":\"by_age\",\"fields\":[\"age\"],\"unique\":false}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c,
                "{\"indexes\":[{\"name\":\"by_age\",\"fields\":[\"name\"],\"unique\":true}]}");
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(errorCode(r)).isEqualTo("conflict");

        for (int i = 0; i < 10; i++) {
            r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/docs/p" + i,
                    "{\"age\":" + (20 + i) + ",\"email\":\"p" + (i % 9) + "@x\"}");
            assertThat(r.statusCode()).isEqualTo(201);
        }
        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/indexes/by_email", "{\"fields\":[\"email\"],\"unique\":true}");
        assertThat(r.statusCode()).isEqualTo(409);
        assertThat(errorCode(r)).isEqualTo("unique_violation");
        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/" + c + "/indexes/by_email", "{\"fields\":[\"email\"]}");
        assertThat(r.statusCode()).isEqualTo(201);

        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/query",
                "{\"index\":\"by_age\",\"range\":{\"gte\":[23],\"lt\":[27]},\"order\":\"desc\",\"limit\":3}");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonObject page = json(r);
        assertThat(page.getJsonArray("docs").stream().map(d -> ((JsonObject) d).getString("key")))
                .containsExactly("p6", "p5", "p4");
        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/query",
                "{\"index\":\"by_age\",\"range\":{\"gte\":[23],\"lt\":[27]},\"order\":\"desc\",\"limit\":3,\"after\":\""
                        + page.getString("next") + "\"}");
        assertThat(json(r).getJsonArray("docs").stream().map(d -> ((JsonObject) d).getString("key"))).containsExactly("p3");
        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/query", "{\"index\":\"by_age\",\"eq\":25,\"count\":true}");
        assertThat(json(r).getLong("count")).isEqualTo(1);
        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/query", "{\"index\":\"nope\",\"eq\":1}");
        assertThat(r.statusCode()).isEqualTo(404);
        r = cluster.call(n, HttpMethod.POST, "/v1/collections/" + c + "/query", "{\"index\":\"by_age\",\"between\":1}");
        assertThat(r.statusCode()).isEqualTo(400);

        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c, null);
        assertThat(json(r).getLong("count")).isEqualTo(10);
        assertThat(json(r).getJsonArray("indexes")).hasSize(2);
        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/indexes", null);
        assertThat(json(r).getJsonArray("indexes")).hasSize(2);
        r = cluster.call(n, HttpMethod.GET, "/v1/collections", null);
        assertThat(json(r).getJsonArray("collections").stream().map(o -> ((JsonObject) o).getString("name"))).contains(c);
        r = cluster.call(n, HttpMethod.DELETE, "/v1/collections/" + c + "/indexes/by_email", null);
        assertThat(r.statusCode()).isEqualTo(204);
        r = cluster.call(n, HttpMethod.DELETE, "/v1/collections/" + c, null);
        assertThat(r.statusCode()).isEqualTo(204);
        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c, null);
        assertThat(r.statusCode()).isEqualTo(404);
        r = cluster.call(n, HttpMethod.PUT, "/v1/collections/bad%20name", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errorCode(r)).isEqualTo("invalid_name");
    }

    @ParameterizedTest
    @ValueSource(strings = {"leader", "follower"})
    void transactions(String via) {
        String n = node(via);
        String c = "acct_" + via;
        var r = cluster.call(n, HttpMethod.POST, "/v1/txn", "{\"ops\":["
                + "{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"a\",\"doc\":{\"bal\":10}},"
                + "{\"op\":\"insert\",\"collection\":\"" + c + "\",\"doc\":{\"bal\":5}},"
                + "{\"op\":\"check\",\"collection\":\"" + c + "\",\"key\":\"b\",\"rev\":0}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        long rev = json(r).getLong("rev");
        assertThat(json(r).getJsonArray("results")).hasSize(3);
        assertThat(json(r).getJsonArray("results").getJsonObject(0).getLong("rev")).isEqualTo(rev);

        r = cluster.call(n, HttpMethod.POST, "/v1/txn", "{\"ops\":["
                + "{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"b\",\"doc\":{\"bal\":1}},"
                + "{\"op\":\"delete\",\"collection\":\"" + c + "\",\"key\":\"a\",\"ifRev\":" + (rev + 100) + "}]}");
        assertThat(r.statusCode()).isEqualTo(412);
        assertThat(json(r).getJsonObject("error").getInteger("failedOp")).isEqualTo(1);
        r = cluster.call(n, HttpMethod.GET, "/v1/collections/" + c + "/docs/b", null);
        assertThat(r.statusCode()).isEqualTo(404);

        r = cluster.call(n, HttpMethod.POST, "/v1/txn", "{\"ops\":[{\"op\":\"fly\",\"collection\":\"" + c + "\"}]}");
        assertThat(r.statusCode()).isEqualTo(400);
        r = cluster.call(n, HttpMethod.POST, "/v1/txn", "{\"ops\":[");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errorCode(r)).isEqualTo("invalid_json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"linearizable", "lease", "local"})
    void readConsistencies(String consistency) {
        String leader = cluster.awaitLeader();
        String follower = cluster.follower();
        var w = cluster.call(leader, HttpMethod.PUT, "/v1/collections/rc/docs/" + consistency, "{\"v\":1}");
        long rev = json(w).getLong("rev");
        String q = "?consistency=" + consistency + (consistency.equals("local") ? "&minRev=" + rev : "");
        var r = cluster.call(follower, HttpMethod.GET, "/v1/collections/rc/docs/" + consistency + q, null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(Long.parseLong(r.getHeader("X-Cairn-Rev"))).isGreaterThanOrEqualTo(rev);
    }

    @ParameterizedTest
    @ValueSource(strings = {"leader", "follower"})
    void clusterAndHealth(String via) {
        String n = node(via);
        var r = cluster.call(n, HttpMethod.GET, "/v1/cluster", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonObject body = json(r);
        assertThat(body.getString("nodeId")).isEqualTo(n);
        assertThat(body.getJsonObject("leader").getString("id")).isEqualTo(cluster.awaitLeader());
        assertThat(body.getJsonArray("members")).hasSize(3);
        assertThat(cluster.call(n, HttpMethod.GET, "/health/live", null).statusCode()).isEqualTo(200);
        TestCluster.awaitTrue("ready", () -> cluster.call(n, HttpMethod.GET, "/health/ready", null).statusCode() == 200);
    }
}
