package io.cairn.it;

import static io.cairn.it.TestCluster.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpMethod;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Failover, catch-up and restarts of a 3-node cluster in one JVM (real verticles, TCP, SQLite):
 * no acknowledged write is ever lost.
 */
class ClusterFaultTest {
    private static final String DOCS = "/v1/collections/things/docs/";

    /**
     * PUTs until acknowledged, as a client would: 503 (not applied) and 504 (unknown; a PUT of the
     * same value is idempotent) are retried until {@link TestCluster#WAIT} runs out.
     */
    private static long put(TestCluster c, String node, String key, int value) {
        long deadline = System.nanoTime() + TestCluster.WAIT.toNanos();
        while (true) {
            var r = c.call(node, HttpMethod.PUT, DOCS + key, "{\"v\":" + value + "}");
            boolean retry = (r.statusCode() == 503 || r.statusCode() == 504) && System.nanoTime() < deadline;
            if (!retry) {
                assertThat(r.statusCode()).as("PUT %s on %s: %s", key, node, r.bodyAsString()).isIn(200, 201);
                return json(r).getLong("rev");
            }
            TestCluster.awaitTrue("a leader", () -> c.node(node).node().state().leaderId().isPresent());
        }
    }

    private static void assertHas(TestCluster c, String node, String key, int value, String query) {
        long deadline = System.nanoTime() + TestCluster.WAIT.toNanos();
        var r = c.call(node, HttpMethod.GET, DOCS + key + query, null);
        while ((r.statusCode() == 503 || r.statusCode() == 504) && System.nanoTime() < deadline) {
            r = c.call(node, HttpMethod.GET, DOCS + key + query, null);
        }
        assertThat(r.statusCode()).as("GET %s on %s: %s", key, node, r.bodyAsString()).isEqualTo(200);
        assertThat(json(r).getInteger("v")).isEqualTo(value);
    }

    @Test
    void leaderStopsNewLeaderKeepsEveryAcknowledgedWriteAndOldLeaderCatchesUp() throws Exception {
        try (TestCluster c = TestCluster.start(3, Map.of())) {
            String leader = c.awaitLeader();
            for (int i = 0; i < 30; i++) put(c, leader, "k" + i, i);
            c.stopNode(leader);
            String next = c.awaitLeader();
            assertThat(next).isNotEqualTo(leader);
            for (int i = 0; i < 30; i++) assertHas(c, next, "k" + i, i, "");
            long last = 0;
            for (int i = 30; i < 40; i++) last = put(c, next, "k" + i, i);
            c.startNode(leader);
            for (int i = 0; i < 40; i++) assertHas(c, leader, "k" + i, i, "?consistency=local&minRev=" + last);
        }
    }

    @Test
    void aStoppingLeaderHandsOffLeadershipFirst() throws Exception {
        try (TestCluster c = TestCluster.start(3, Map.of())) {
            String leader = c.awaitLeader();
            put(c, leader, "x", 1);
            long started = System.nanoTime();
            c.stopNode(leader);
            long stopMillis = (System.nanoTime() - started) / 1_000_000;
            // the successor was leader before the old one finished stopping: no election gap
            assertThat(c.running().stream().anyMatch(id -> c.node(id).node().state().isLeader())).isTrue();
            assertThat(stopMillis).isLessThan(15_000);
            assertHas(c, c.awaitLeader(), "x", 1, "");
        }
    }

    @Test
    void wipedFollowerCatchesUpBySnapshot() throws Exception {
        try (TestCluster c = TestCluster.start(3, Map.of("CAIRN_SNAPSHOT_ENTRIES", "20"))) {
            String leader = c.awaitLeader();
            String follower = c.follower();
            long last = 0;
            for (int i = 0; i < 60; i++) last = put(c, leader, "s" + i, i);
            long compacted = last;
            TestCluster.awaitTrue("the leader to compact its log",
                    () -> c.node(leader).node().state().status().snapshotIndex() > 0);
            assertThat(compacted).isGreaterThan(c.node(leader).node().state().status().snapshotIndex());
            c.stopNode(follower);
            c.wipe(follower);
            c.startNode(follower);
            for (int i = 0; i < 60; i++) assertHas(c, follower, "s" + i, i, "?consistency=local&minRev=" + last);
            assertThat(c.node(follower).node().state().status().snapshotIndex()).isGreaterThan(0);
        }
    }

    @Test
    void twoOfThreeDownWritesFailWithinTheBoundThenSucceedAfterRestart() throws Exception {
        try (TestCluster c = TestCluster.start(3, Map.of())) {
            String leader = c.awaitLeader();
            put(c, leader, "before", 1);
            List<String> others = c.ids().stream().filter(id -> !id.equals(leader)).toList();
            for (String id : others) c.stopNode(id);
            long started = System.nanoTime();
            var r = c.call(leader, HttpMethod.PUT, DOCS + "during", "{\"v\":2}");
            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertThat(r.statusCode()).as(r.bodyAsString()).isIn(503, 504);
            assertThat(elapsedMs).isLessThan(3000 + 2000);
            if (r.statusCode() == 503) assertThat(r.getHeader("Retry-After")).isNotNull();
            for (String id : others) c.startNode(id);
            String now = c.awaitLeader();
            put(c, now, "after", 3);
            assertHas(c, now, "before", 1, "");
            assertHas(c, now, "after", 3, "");
        }
    }

    @Test
    void allNodesRestartedKeepEverything() throws Exception {
        try (TestCluster c = TestCluster.start(3, Map.of())) {
            String leader = c.awaitLeader();
            for (int i = 0; i < 20; i++) put(c, leader, "r" + i, i);
            for (String id : c.ids()) c.stopNode(id);
            for (String id : c.ids()) c.startNode(id);
            String now = c.awaitLeader();
            for (String id : c.ids()) {
                for (int i = 0; i < 20; i++) assertHas(c, id, "r" + i, i, "");
            }
            assertThat(now).isNotNull();
        }
    }

    @Test
    void linearizableReadOnAnyNodeSeesTheWriteJustAcknowledged() throws Exception {
        long seed = System.nanoTime();
        System.out.println("ClusterFaultTest seed " + seed);
        Random random = new Random(seed);
        try (TestCluster c = TestCluster.start(3, Map.of())) {
            c.awaitLeader();
            List<String> ids = new ArrayList<>(c.ids());
            for (int i = 0; i < 40; i++) {
                String writer = ids.get(random.nextInt(ids.size()));
                String reader = ids.get(random.nextInt(ids.size()));
                long rev = put(c, writer, "lin", i);
                var r = c.call(reader, HttpMethod.GET, DOCS + "lin", null);
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(json(r).getInteger("v")).as("seed %d, write on %s, read on %s", seed, writer, reader).isEqualTo(i);
                assertThat(r.getHeader("ETag")).isEqualTo("\"" + rev + "\"");
            }
        }
    }
}
