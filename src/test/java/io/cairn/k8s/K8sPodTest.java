package io.cairn.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a pod derives from the StatefulSet, and how it reads spec.replicas. */
class K8sPodTest {
    @TempDir Path tmp;

    private Map<String, String> env(String pod, String... more) {
        Map<String, String> env = new HashMap<>(Map.of("CAIRN_K8S_STATEFULSET", "db", "CAIRN_K8S_POD_NAME", pod,
                "CAIRN_K8S_NAMESPACE", "ns", "CAIRN_K8S_SERVICE", "db-peers", "CAIRN_K8S_INITIAL_REPLICAS", "3",
                "CAIRN_DATA_DIR", tmp.resolve("data").toString()));
        for (int i = 0; i < more.length; i += 2) env.put(more[i], more[i + 1]);
        return env;
    }

    private CairnConfig config(Map<String, String> env) {
        Map<String, String> s = ConfigLoader.settings(tmp, null, env);
        return ConfigLoader.build(K8sPod.fromSettings(s).orElseThrow().settings(s));
    }

    @Test
    void withoutAStatefulSetNothingIsDerived() {
        assertThat(K8sPod.fromSettings(ConfigLoader.settings(tmp, null, Map.of()))).isEmpty();
    }

    @Test
    void anInitialPodIsAVoterOfTheInitialPodsUnderItsDnsName() {
        CairnConfig c = config(env("db-1"));
        assertThat(c.nodeId()).isEqualTo("db-1");
        assertThat(c.advertiseHost()).isEqualTo("db-1.db-peers.ns.svc.cluster.local");
        assertThat(c.peers()).extracting(CairnConfig.PeerSpec::toString).containsExactly(
                new CairnConfig.PeerSpec("db-0", "db-0.db-peers.ns.svc.cluster.local", 7000, 8080).toString(),
                new CairnConfig.PeerSpec("db-1", "db-1.db-peers.ns.svc.cluster.local", 7000, 8080).toString(),
                new CairnConfig.PeerSpec("db-2", "db-2.db-peers.ns.svc.cluster.local", 7000, 8080).toString());
        assertThat(c.join()).isEmpty();
    }

    @Test
    void aLaterPodJoinsThroughTheOthersAndTheEnvironmentCannotOverrideIdentity() {
        CairnConfig c = config(env("db-4", "CAIRN_NODE_ID", "other", "CAIRN_PEERS", "other=h:1:2"));
        assertThat(c.nodeId()).isEqualTo("db-4");
        assertThat(c.peers()).isEmpty();
        assertThat(c.join()).containsExactly("db-0.db-peers.ns.svc.cluster.local:8080", "db-1.db-peers.ns.svc.cluster.local:8080",
                "db-2.db-peers.ns.svc.cluster.local:8080", "db-3.db-peers.ns.svc.cluster.local:8080");
    }

    @Test
    void aPortStrideAndADomainPlaceEveryPodOnOneHost() {
        CairnConfig c = config(env("db-2", "CAIRN_K8S_PORT_STRIDE", "10", "CAIRN_HTTP_PORT", "20000", "CAIRN_RAFT_PORT",
                "20005", "CAIRN_K8S_DOMAIN", "test"));
        assertThat(c.httpPort()).isEqualTo(20020);
        assertThat(c.raftPort()).isEqualTo(20025);
        assertThat(c.peers().get(0).raftAddress()).isEqualTo("db-0.db-peers.ns.svc.test:20005");
        assertThat(c.peers().get(1).httpAddress()).isEqualTo("db-1.db-peers.ns.svc.test:20010");
    }

    @Test
    void inconsistentSettingsAreRefusedClearly() {
        assertThatThrownBy(() -> config(env("web-1"))).hasMessageContaining("not a pod of StatefulSet 'db'");
        assertThatThrownBy(() -> config(env("db-x"))).hasMessageContaining("not a pod of StatefulSet");
        assertThatThrownBy(() -> config(env("db-1", "CAIRN_K8S_SERVICE", ""))).hasMessageContaining("CAIRN_K8S_SERVICE must be set");
        assertThatThrownBy(() -> config(env("db-1", "CAIRN_K8S_INITIAL_REPLICAS", "0"))).hasMessageContaining("CAIRN_K8S_INITIAL_REPLICAS");
    }

    @Test
    void aDataDirectoryLeftOnAScaleDownIsClearedAndThePodJoins() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("raft-log.db"), "old");
        Files.createDirectories(data.resolve("snapshots")).resolve("snap-1-1.db").toFile().createNewFile();
        Files.createDirectories(data.resolve("lost+found"));
        CairnConfig before = config(env("db-0"));
        assertThat(before.join()).isEmpty();
        assertThat(data.resolve("raft-log.db")).exists();

        K8sPod.markLeft(data, "test");
        CairnConfig c = config(env("db-0"));
        assertThat(c.join()).containsExactly("db-1.db-peers.ns.svc.cluster.local:8080", "db-2.db-peers.ns.svc.cluster.local:8080");
        assertThat(c.peers()).hasSize(3);
        try (var left = Files.list(data)) {
            assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("lost+found");
        }
    }

    @Test
    void onlyAPodAtOrPastTheWantedReplicasLeavesAndAScaleToZeroIsAPause() {
        assertThat(ScaleDownLeave.scaledDown(3, 3)).isTrue();
        assertThat(ScaleDownLeave.scaledDown(4, 3)).isTrue();
        assertThat(ScaleDownLeave.scaledDown(2, 3)).isFalse();
        assertThat(ScaleDownLeave.scaledDown(0, 1)).isFalse();
        assertThat(ScaleDownLeave.scaledDown(0, 0)).isFalse();
        assertThat(ScaleDownLeave.scaledDown(4, 0)).isFalse();
    }

    @Test
    void theReaderGetsSpecReplicasOverTlsWithTheTokenAndTrustsOnlyTheMountedCa() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (FakeKubeApi api = FakeKubeApi.start(vertx, tmp.resolve("api"), "ns", "db", 5)) {
            Map<String, String> s = ConfigLoader.settings(tmp, null, env("db-1", "CAIRN_K8S_API_URL", api.url(),
                    "CAIRN_K8S_TOKEN_FILE", api.tokenFile().toString(), "CAIRN_K8S_CA_FILE", api.caFile().toString()));
            K8sPod pod = K8sPod.fromSettings(s).orElseThrow();
            StatefulSetReader reader = new StatefulSetReader(vertx, pod);
            assertThat(reader.replicas(5_000).await(30, TimeUnit.SECONDS)).isEqualTo(5);
            api.replicas(3);
            assertThat(reader.replicas(5_000).await(30, TimeUnit.SECONDS)).isEqualTo(3);
            assertThat(api.requests()).containsOnly("GET /apis/apps/v1/namespaces/ns/statefulsets/db");

            // a wrong token is refused; another CA is not trusted
            Files.writeString(tmp.resolve("bad-token"), "nope");
            K8sPod badToken = K8sPod.fromSettings(withSetting(s, "k8sTokenFile", tmp.resolve("bad-token").toString())).orElseThrow();
            assertThatThrownBy(() -> new StatefulSetReader(vertx, badToken).replicas(5_000).await(30, TimeUnit.SECONDS))
                    .hasMessageContaining("401");
            Path otherCa = FakeKubeApi.someOtherCa(tmp.resolve("other-ca.crt"));
            K8sPod wrongCa = K8sPod.fromSettings(withSetting(s, "k8sCaFile", otherCa.toString())).orElseThrow();
            assertThatThrownBy(() -> new StatefulSetReader(vertx, wrongCa).replicas(5_000).await(30, TimeUnit.SECONDS))
                    .isNotNull();
            assertThat(api.requests()).as("no request passes an untrusted handshake").hasSize(3);
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    private static Map<String, String> withSetting(Map<String, String> s, String key, String value) {
        Map<String, String> out = new HashMap<>(s);
        out.put(key, value);
        return out;
    }

    @Test
    void everyK8sSettingIsListedInHelp() {
        String help = ConfigLoader.help();
        for (String env : List.of("CAIRN_K8S_STATEFULSET", "CAIRN_K8S_POD_NAME", "CAIRN_K8S_NAMESPACE", "CAIRN_K8S_SERVICE",
                "CAIRN_K8S_INITIAL_REPLICAS", "CAIRN_K8S_DOMAIN", "CAIRN_K8S_PORT_STRIDE", "CAIRN_K8S_API_URL",
                "CAIRN_K8S_TOKEN_FILE", "CAIRN_K8S_CA_FILE", "CAIRN_K8S_LEAVE_TIMEOUT_MS")) {
            assertThat(help).contains(env);
        }
    }
}
