package io.cairn.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.Await;
import io.cairn.Cairn;
import io.cairn.Restore;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.dns.AddressResolverOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * k8s/README.md, "Restoring a whole cluster from a backup", minus Kubernetes: a backup taken with
 * {@code GET /v1/backup}, then {@code cairn restore} run with each initial pod's own settings (the
 * manifest's environment, as the restore overlay's init container has it), then the three pods
 * start, elect a leader and serve the backup's documents. Pod DNS names resolve to 127.0.0.1
 * through Vert.x's hosts option; each pod's ports are moved by {@code CAIRN_K8S_PORT_STRIDE}.
 */
class K8sRestoreTest {
    @TempDir Path tmp;

    @Test
    void everyInitialPodRestoresTheSameBackupAndTheyFormACluster() throws Exception {
        Path backup = tmp.resolve("cairn-backup.db");
        long backupRev = takeBackup(backup, 20);

        Manifests k8s = Manifests.load();
        int base = io.cairn.Ports.freeBlock(20);
        StringBuilder hosts = new StringBuilder();
        List<CairnConfig> configs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String pod = "cairn-" + i;
            Map<String, String> env = new LinkedHashMap<>(Manifests.podEnv(k8s.container(), pod, "default"));
            env.putAll(Map.of("CAIRN_DATA_DIR", tmp.resolve("pvc-" + pod).toString(), "CAIRN_HTTP_HOST", "127.0.0.1",
                    "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", Integer.toString(base), "CAIRN_RAFT_PORT",
                    Integer.toString(base + 10), "CAIRN_K8S_PORT_STRIDE", "1", "CAIRN_API_INSTANCES", "1"));
            Map<String, String> settings = ConfigLoader.settings(tmp, k8s.dir().resolve("cairn.json"), env);
            K8sPod k8sPod = K8sPod.fromSettings(settings).orElseThrow();
            CairnConfig config = ConfigLoader.build(k8sPod.settings(settings));
            assertThat(Restore.run(config, backup)).contains("restored revision " + backupRev)
                    .contains("[cairn-0, cairn-1, cairn-2]");
            configs.add(config);
            hosts.append("127.0.0.1 ").append(config.advertiseHost()).append('\n');
        }

        Vertx vertx = Vertx.builder().with(new VertxOptions().setAddressResolverOptions(
                new AddressResolverOptions().setHostsValue(Buffer.buffer(hosts.toString())))).build();
        List<Cairn> nodes = new ArrayList<>();
        try {
            for (CairnConfig c : configs) nodes.add(Cairn.start(vertx, c).await(60, TimeUnit.SECONDS));
            Await.until("a leader among the restored pods", () -> nodes.stream().anyMatch(n -> n.node().state().isLeader()));
            WebClient http = WebClient.create(vertx);
            for (Cairn n : nodes) {
                Await.until("pod " + n.node().config().nodeId() + " ready", () -> n.node().state().leader().isPresent()
                        && n.node().appliedIndex() >= n.node().state().status().commitIndex());
                JsonObject list = http.get(n.httpPort(), "127.0.0.1", "/v1/collections/r/docs?limit=1000").send()
                        .await(30, TimeUnit.SECONDS).bodyAsJsonObject();
                assertThat(list.getJsonArray("docs")).as("documents on %s", n.node().config().nodeId()).hasSize(20);
            }
            var write = http.put(nodes.get(1).httpPort(), "127.0.0.1", "/v1/collections/r/docs/after")
                    .sendBuffer(Buffer.buffer("{}")).await(30, TimeUnit.SECONDS);
            assertThat(write.statusCode()).as(write.bodyAsString()).isEqualTo(201);
            assertThat(write.bodyAsJsonObject().getLong("rev")).isGreaterThan(backupRev);
        } finally {
            for (Cairn n : nodes) n.stop().await(30, TimeUnit.SECONDS);
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    /** A single node with {@code docs} documents; its {@code GET /v1/backup} into {@code file}; the backup's revision. */
    private long takeBackup(Path file, int docs) throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            CairnConfig config = ConfigLoader.load(tmp, null, Map.of("CAIRN_DATA_DIR", tmp.resolve("old").toString(),
                    "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_RAFT_PORT", "0",
                    "CAIRN_TICK_MS", "20", "CAIRN_API_INSTANCES", "1"));
            Cairn old = Cairn.start(vertx, config).await(60, TimeUnit.SECONDS);
            try {
                Await.until("leadership", () -> old.node().state().isLeader());
                WebClient http = WebClient.create(vertx);
                for (int i = 0; i < docs; i++) {
                    int status = http.put(old.httpPort(), "127.0.0.1", "/v1/collections/r/docs/d" + i)
                            .sendBuffer(Buffer.buffer("{\"i\":" + i + "}")).await(30, TimeUnit.SECONDS).statusCode();
                    assertThat(status).isEqualTo(201);
                }
                var backup = http.get(old.httpPort(), "127.0.0.1", "/v1/backup").send().await(30, TimeUnit.SECONDS);
                assertThat(backup.statusCode()).isEqualTo(200);
                Files.write(file, backup.body().getBytes());
                return Long.parseLong(backup.getHeader("X-Cairn-Rev"));
            } finally {
                old.stop().await(30, TimeUnit.SECONDS);
            }
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }
}
