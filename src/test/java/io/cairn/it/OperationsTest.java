package io.cairn.it;

import static io.cairn.it.TestCluster.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.Cairn;
import io.cairn.Restore;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics, snapshots, backups and their restore, leadership transfer (API.md, "Cluster and operations"). */
class OperationsTest {
    private static TestCluster cluster;
    @TempDir Path tmp;

    @BeforeAll
    static void start() throws Exception {
        cluster = TestCluster.start(3, Map.of());
        cluster.awaitLeader();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) cluster.close();
    }

    private static double metric(String text, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$").matcher(text);
        while (m.find()) {
            if (m.group(1).contains(labels)) return Double.parseDouble(m.group(2));
        }
        throw new AssertionError("no " + name + "{" + labels + "} in metrics:\n" + text);
    }

    @Test
    void metricsShowRaftFigures() {
        String leader = cluster.awaitLeader();
        for (int i = 0; i < 5; i++) {
            cluster.call(leader, HttpMethod.PUT, "/v1/collections/metrics/docs/k" + i, "{}");
        }
        var r = cluster.call(leader, HttpMethod.GET, "/metrics", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("Content-Type")).startsWith("text/plain");
        String text = r.bodyAsString();
        assertThat(metric(text, "cairn_raft_term", "node=\"" + leader + "\"")).isGreaterThanOrEqualTo(1);
        assertThat(metric(text, "cairn_raft_role", "role=\"leader\"")).isEqualTo(1);
        assertThat(metric(text, "cairn_raft_role", "role=\"follower\"")).isEqualTo(0);
        assertThat(metric(text, "cairn_raft_commit_index", "")).isGreaterThanOrEqualTo(6);
        assertThat(metric(text, "cairn_raft_applied_index", "")).isGreaterThanOrEqualTo(6);
        assertThat(metric(text, "cairn_raft_leader_changes_total", "")).isGreaterThanOrEqualTo(1);
        assertThat(metric(text, "cairn_raft_proposals_total", "")).isGreaterThanOrEqualTo(5);
        assertThat(metric(text, "cairn_raft_fsync_seconds_count", "")).isGreaterThanOrEqualTo(1);
        assertThat(metric(text, "cairn_raft_fsync_seconds_sum", "")).isGreaterThan(0);
        assertThat(metric(text, "cairn_raft_appended_entries_total", "")).isGreaterThanOrEqualTo(5);
        assertThat(metric(text, "cairn_apply_seconds_count", "")).isGreaterThanOrEqualTo(1);
        assertThat(metric(text, "cairn_apply_seconds_sum", "")).isGreaterThan(0);
        String follower = cluster.follower();
        assertThat(metric(text, "cairn_raft_replication_lag_entries", "peer=\"" + follower + "\"")).isBetween(0.0, 1000.0);
        assertThat(text).contains("cairn_snapshots_seconds_count");
    }

    @Test
    void snapshotBackupAndRestoreHoldExactlyTheAcknowledgedDocuments() throws Exception {
        String leader = cluster.awaitLeader();
        long lastRev = 0;
        for (int i = 0; i < 10; i++) {
            var put = cluster.call(leader, HttpMethod.PUT, "/v1/collections/bk/docs/d" + i, "{\"i\":" + i + "}");
            assertThat(put.statusCode()).isEqualTo(201);
            lastRev = json(put).getLong("rev");
        }
        var snap = cluster.call(leader, HttpMethod.POST, "/v1/snapshot", null);
        assertThat(snap.statusCode()).isEqualTo(200);
        assertThat(json(snap).getLong("rev")).isGreaterThanOrEqualTo(10);

        String follower = cluster.follower();
        assertThat(cluster.call(follower, HttpMethod.GET, "/v1/backup?consistency=sometimes", null).statusCode()).isEqualTo(400);
        assertThat(cluster.call(follower, HttpMethod.GET, "/v1/backup?minRev=-1", null).statusCode()).isEqualTo(400);
        // A follower may not have applied the last write yet (it hears of the commit with the next
        // append or heartbeat): minRev waits for it, as for a read.
        var backup = cluster.call(follower, HttpMethod.GET, "/v1/backup?minRev=" + lastRev, null);
        assertThat(backup.statusCode()).isEqualTo(200);
        assertThat(backup.getHeader("Content-Type")).isEqualTo("application/vnd.sqlite3");
        byte[] bytes = backup.body().getBytes();
        assertThat(new String(Arrays.copyOf(bytes, 15), StandardCharsets.US_ASCII)).isEqualTo("SQLite format 3");
        long backupRev = Long.parseLong(backup.getHeader("X-Cairn-Rev"));
        assertThat(backupRev).isGreaterThanOrEqualTo(lastRev);
        var linearizable = cluster.call(follower, HttpMethod.GET, "/v1/backup?consistency=linearizable", null);
        assertThat(linearizable.statusCode()).isEqualTo(200);
        assertThat(Long.parseLong(linearizable.getHeader("X-Cairn-Rev"))).isGreaterThanOrEqualTo(lastRev);
        Path file = tmp.resolve("backup.db");
        Files.write(file, bytes);
        cluster.call(leader, HttpMethod.PUT, "/v1/collections/bk/docs/after", "{}");

        var config = ConfigLoader.load(tmp, null, Map.of("CAIRN_DATA_DIR", tmp.resolve("restored").toString(),
                "CAIRN_NODE_ID", "solo", "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1",
                "CAIRN_RAFT_PORT", "0", "CAIRN_TICK_MS", "20", "CAIRN_API_INSTANCES", "1"));
        assertThat(Restore.run(config, file)).contains("restored revision " + backupRev);
        Vertx vertx = Vertx.vertx();
        try {
            Cairn solo = Cairn.start(vertx, config).await(60, TimeUnit.SECONDS);
            TestCluster.awaitTrue("the restored node to lead", () -> solo.node().state().isLeader());
            var client = io.vertx.ext.web.client.WebClient.create(vertx);
            var list = client.get(solo.httpPort(), "127.0.0.1", "/v1/collections/bk/docs").send().await(30, TimeUnit.SECONDS);
            assertThat(json(list).getJsonArray("docs")).hasSize(10);
            var write = client.put(solo.httpPort(), "127.0.0.1", "/v1/collections/bk/docs/new")
                    .sendBuffer(io.vertx.core.buffer.Buffer.buffer("{}")).await(30, TimeUnit.SECONDS);
            assertThat(json(write).getLong("rev")).isGreaterThan(backupRev);
            solo.stop().await(30, TimeUnit.SECONDS);
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        assertThat(Restore.class).isNotNull();
    }

    @Test
    void leadershipMovesOnRequest() {
        String leader = cluster.awaitLeader();
        String target = cluster.follower();
        var r = cluster.call(target, HttpMethod.POST, "/v1/cluster/leader", "{\"to\":\"" + target + "\"}");
        assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        assertThat(cluster.awaitLeader()).isEqualTo(target).isNotEqualTo(leader);
        r = cluster.call(target, HttpMethod.POST, "/v1/cluster/leader", "{\"to\":\"nobody\"}");
        assertThat(r.statusCode()).isEqualTo(400);
    }
}
