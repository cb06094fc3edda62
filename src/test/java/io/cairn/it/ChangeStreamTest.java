package io.cairn.it;

import static io.cairn.it.TestCluster.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Change streams over WebSocket and long poll on a 3-node cluster (API.md, "Change streams"). */
class ChangeStreamTest {
    private static TestCluster cluster;
    private static Vertx vertx;
    private static WebSocketClient ws;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, Map.of("CAIRN_PROGRESS_MS", "200", "CAIRN_HISTORY_RETAIN", "50"));
        cluster.awaitLeader();
        vertx = Vertx.vertx();
        ws = vertx.createWebSocketClient();
    }

    @AfterAll
    static void stop() throws Exception {
        if (vertx != null) vertx.close().await(10, TimeUnit.SECONDS);
        if (cluster != null) cluster.close();
    }

    /** A subscription that records every text frame and its close code. */
    private static final class Sub {
        final List<JsonObject> frames = new CopyOnWriteArrayList<>();
        final AtomicInteger closeCode = new AtomicInteger(-1);
        WebSocket socket;

        List<JsonObject> changes() {
            return frames.stream().filter(f -> f.getString("type").equals("change")).toList();
        }
    }

    /**
     * Regression: subscribers were grouped by the context of their upgrade request, a duplicate per
     * request, so none shared a history read and every group leaked a timer. Now subscribers of one
     * event loop share one loop, and a write costs at most one history read per event loop.
     */
    @Test
    void subscribersOfOneEventLoopShareOneHistoryReadPerWrite() throws Exception {
        String node = cluster.follower();
        var streams = cluster.node(node).changeStreams();
        List<Sub> subs = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) subs.add(subscribe(node, "?collection=shared"));
        for (Sub s : subs) io.cairn.Await.until("first frame", () -> !s.frames.isEmpty());
        assertThat(streams.loopsInUse()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors() * 2);
        int writes = 20;
        long readsBefore = streams.historyReads();
        for (int i = 0; i < writes; i++) write("/v1/collections/shared/docs/k" + i, HttpMethod.PUT, "{\"i\":" + i + "}");
        for (Sub s : subs) io.cairn.Await.until("all changes", () -> s.changes().size() == writes);
        long reads = streams.historyReads() - readsBefore;
        System.out.printf("%d subscribers, %d writes: %d history reads on %d event loops%n", subs.size(), writes, reads,
                streams.loopsInUse());
        assertThat(reads).isLessThanOrEqualTo((long) writes * streams.loopsInUse());
        for (Sub s : subs) s.socket.close();
    }

    /**
     * Subscribers of one node with different filters are served from one page, encoded once per
     * filter and shared by the subscribers with the same one: each still gets exactly its own
     * changes, in order, including frames longer than 125 bytes, 1 KiB and 64 KiB (each frame-length
     * form of RFC 6455).
     */
    @Test
    void subscribersWithDifferentFiltersShareAPageAndGetTheirOwnChanges() throws Exception {
        String leader = cluster.awaitLeader();
        long start = write("/v1/collections/mix/docs/k0", HttpMethod.PUT, "{}");
        Map<String, String> queries = new java.util.LinkedHashMap<>();
        queries.put("collection a", "?collection=mix&after=" + start);
        queries.put("collection b", "?collection=mix&after=" + start);
        queries.put("collection prev", "?collection=mix&prev=true&after=" + start);
        queries.put("key", "?collection=mix&key=k1&after=" + start);
        queries.put("all", "?after=" + start);
        queries.put("other", "?collection=other-mix&after=" + start);
        Map<String, Sub> subs = new java.util.LinkedHashMap<>();
        for (var q : queries.entrySet()) subs.put(q.getKey(), subscribe(leader, q.getValue()));

        String big = "x".repeat(70_000);
        String mid = "y".repeat(2_000);
        long r1 = write("/v1/collections/mix/docs/k1", HttpMethod.PUT, "{\"v\":1}");
        long r2 = write("/v1/txn", HttpMethod.POST, "{\"ops\":["
                + "{\"op\":\"put\",\"collection\":\"mix\",\"key\":\"k2\",\"doc\":{\"s\":\"" + mid + "\"}},"
                + "{\"op\":\"put\",\"collection\":\"other-mix\",\"key\":\"x\",\"doc\":{\"v\":2}},"
                + "{\"op\":\"put\",\"collection\":\"mix\",\"key\":\"k1\",\"doc\":{\"s\":\"" + big + "\"}}]}");
        long r3 = write("/v1/collections/mix/docs/k2", HttpMethod.DELETE, null);

        Map<String, List<String>> expected = Map.of(
                "collection a", List.of(r1 + " mix/k1", r2 + " mix/k2", r2 + " mix/k1", r3 + " mix/k2"),
                "collection b", List.of(r1 + " mix/k1", r2 + " mix/k2", r2 + " mix/k1", r3 + " mix/k2"),
                "collection prev", List.of(r1 + " mix/k1", r2 + " mix/k2", r2 + " mix/k1", r3 + " mix/k2"),
                "key", List.of(r1 + " mix/k1", r2 + " mix/k1"),
                "all", List.of(r1 + " mix/k1", r2 + " mix/k2", r2 + " other-mix/x", r2 + " mix/k1", r3 + " mix/k2"),
                "other", List.of(r2 + " other-mix/x"));
        for (var e : subs.entrySet()) {
            Sub s = e.getValue();
            List<String> want = expected.get(e.getKey());
            TestCluster.awaitTrue(e.getKey() + " gets " + want.size() + " changes", () -> s.changes().size() >= want.size());
            // a progress frame after the last change shows nothing more is coming
            TestCluster.awaitTrue(e.getKey() + " progress past " + r3, () -> s.frames.stream()
                    .anyMatch(f -> f.getString("type").equals("progress") && f.getLong("rev") >= r3));
            assertThat(s.changes()).as(e.getKey())
                    .extracting(c -> c.getLong("rev") + " " + c.getString("collection") + "/" + c.getString("key"))
                    .containsExactlyElementsOf(want);
            for (JsonObject c : s.changes()) {
                assertThat(c.containsKey("prev")).as(e.getKey() + " prev").isEqualTo(e.getKey().equals("collection prev"));
                if (c.getLong("rev") == r2 && c.getString("key").equals("k1")) {
                    assertThat(c.getJsonObject("doc").getString("s")).isEqualTo(big);
                }
                if (c.getLong("rev") == r2 && c.getString("key").equals("k2")) {
                    assertThat(c.getJsonObject("doc").getString("s")).isEqualTo(mid);
                }
            }
        }
        JsonObject deleted = subs.get("collection prev").changes().get(3);
        assertThat(deleted.getJsonObject("prev").getString("s")).isEqualTo(mid);
        for (Sub s : subs.values()) s.socket.close().await(5, TimeUnit.SECONDS);
    }

    private static Sub subscribe(String node, String query) throws Exception {
        Sub s = new Sub();
        // Handlers are set on the event loop as the connection completes, before any frame is dispatched.
        s.socket = ws.connect(cluster.httpPort(node), "127.0.0.1", "/v1/changes" + query).onSuccess(socket -> {
            socket.textMessageHandler(t -> s.frames.add(new JsonObject(t)));
            socket.closeHandler(v -> s.closeCode.set(socket.closeStatusCode() == null ? 0 : socket.closeStatusCode()));
        }).await(10, TimeUnit.SECONDS);
        return s;
    }

    private static long write(String path, HttpMethod m, String body) {
        var r = cluster.call(cluster.awaitLeader(), m, path, body);
        assertThat(r.statusCode()).as(r.bodyAsString()).isLessThan(300);
        return r.statusCode() == 204 ? Long.parseLong(r.getHeader("X-Cairn-Rev")) : json(r).getLong("rev");
    }

    @Test
    void followerStreamsEveryCommittedChangeInOrderAndResumesWithoutGapOrRepeat() throws Exception {
        String follower = cluster.follower();
        long start = write("/v1/collections/s1/docs/a", HttpMethod.PUT, "{\"v\":0}");
        Sub s = subscribe(follower, "?collection=s1&prev=true&after=" + start);
        long r1 = write("/v1/collections/s1/docs/a", HttpMethod.PUT, "{\"v\":1}");
        long r2 = write("/v1/txn", HttpMethod.POST, "{\"ops\":[{\"op\":\"put\",\"collection\":\"s1\",\"key\":\"b\",\"doc\":{\"v\":2}},"
                + "{\"op\":\"put\",\"collection\":\"other\",\"key\":\"x\",\"doc\":{}},"
                + "{\"op\":\"put\",\"collection\":\"s1\",\"key\":\"c\",\"doc\":{\"v\":3}}]}");
        long r3 = write("/v1/collections/s1/docs/a", HttpMethod.DELETE, null);
        TestCluster.awaitTrue("4 changes", () -> s.changes().size() >= 4);
        List<JsonObject> got = s.changes();
        assertThat(got).extracting(c -> c.getLong("rev")).containsExactly(r1, r2, r2, r3);
        assertThat(got).extracting(c -> c.getString("key")).containsExactly("a", "b", "c", "a");
        assertThat(got.get(0).getJsonObject("prev")).isEqualTo(new JsonObject().put("v", 0));
        assertThat(got.get(3).getString("op")).isEqualTo("delete");
        assertThat(got.get(3).getValue("doc")).isNull();
        s.socket.close().await(5, TimeUnit.SECONDS);

        long r4 = write("/v1/collections/s1/docs/d", HttpMethod.PUT, "{\"v\":4}");
        long r5 = write("/v1/collections/s1", HttpMethod.DELETE, null);
        Sub resumed = subscribe(follower, "?collection=s1&after=" + r3);
        TestCluster.awaitTrue("2 more changes on " + follower + " (frames " + resumed.frames + ", close " + resumed.closeCode
                + ", applied " + cluster.node(follower).node().appliedIndex() + ")", () -> resumed.changes().size() >= 2);
        assertThat(resumed.changes()).extracting(c -> c.getLong("rev")).containsExactly(r4, r5);
        assertThat(resumed.changes().get(1).getString("op")).isEqualTo("drop");
        TestCluster.awaitTrue("a progress frame", () -> resumed.frames.stream().anyMatch(f -> f.getString("type").equals("progress")));
        JsonObject progress = resumed.frames.stream().filter(f -> f.getString("type").equals("progress")).findFirst().orElseThrow();
        assertThat(progress.getLong("rev")).isGreaterThanOrEqualTo(r5);
        assertThat(resumed.changes()).hasSize(2);
        resumed.socket.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void keyFilterAndLongPoll() throws Exception {
        String leader = cluster.awaitLeader();
        long start = write("/v1/collections/s2/docs/k", HttpMethod.PUT, "{\"v\":0}");
        var r = cluster.call(leader, HttpMethod.GET, "/v1/changes?collection=s2&key=k&after=" + (start - 1), null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonArray changes = json(r).getJsonArray("changes");
        assertThat(changes).hasSize(1);
        assertThat(json(r).getLong("rev")).isGreaterThanOrEqualTo(start);

        long from = json(r).getLong("rev");
        vertx.setTimer(300, t -> write("/v1/collections/s2/docs/k", HttpMethod.PUT, "{\"v\":1}"));
        long t0 = System.nanoTime();
        r = cluster.call(cluster.follower(), HttpMethod.GET, "/v1/changes?collection=s2&key=k&waitMs=10000&after=" + from, null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(9000);
        assertThat(json(r).getJsonArray("changes")).hasSize(1);
        assertThat(json(r).getJsonArray("changes").getJsonObject(0).getJsonObject("doc").getInteger("v")).isEqualTo(1);

        r = cluster.call(leader, HttpMethod.GET, "/v1/changes?after=-1", null);
        assertThat(r.statusCode()).isEqualTo(400);
    }

    @Test
    void resumingBeforeTheKeptHistoryIsCompacted() throws Exception {
        for (int i = 0; i < 80; i++) write("/v1/collections/s3/docs/k" + i, HttpMethod.PUT, "{}");
        var r = cluster.call(cluster.awaitLeader(), HttpMethod.GET, "/v1/changes?after=1", null);
        assertThat(r.statusCode()).isEqualTo(410);
        assertThat(json(r).getJsonObject("error").getLong("oldestRev")).isGreaterThan(2);
        Sub s = subscribe(cluster.follower(), "?after=1");
        TestCluster.awaitTrue("the close", () -> s.closeCode.get() >= 0);
        assertThat(s.closeCode.get()).isEqualTo(4410);
        assertThat(s.frames).hasSize(1);
        assertThat(s.frames.get(0).getString("type")).isEqualTo("error");
        assertThat(s.frames.get(0).getString("code")).isEqualTo("compacted");
        assertThat(s.frames.get(0).getLong("oldestRev")).isGreaterThan(2);
    }
}
