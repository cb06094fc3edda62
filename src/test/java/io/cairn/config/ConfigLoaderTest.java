package io.cairn.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir Path dir;

    @Test
    void defaultsMatchApiMd() {
        CairnConfig c = ConfigLoader.load(dir, null, Map.of());
        assertThat(c.nodeId()).isEqualTo("node-1");
        assertThat(c.httpPort()).isEqualTo(8080);
        assertThat(c.raftPort()).isEqualTo(7000);
        assertThat(c.httpHost()).isEqualTo("0.0.0.0");
        assertThat(c.advertiseHost()).isEqualTo("127.0.0.1");
        assertThat(c.dataDir()).isEqualTo(Path.of("./data"));
        assertThat(c.historyRetain()).isEqualTo(1_000_000);
        assertThat(c.initialVoters()).extracting(CairnConfig.PeerSpec::id).containsExactly("node-1");
    }

    @Test
    void fileThenConfThenEnvironment() throws Exception {
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/cairn.json"), "{\"httpPort\": 8081, \"raftPort\": 7001}");
        Path extra = dir.resolve("extra.json");
        Files.writeString(extra, "{\"httpPort\": 8082}");
        CairnConfig c = ConfigLoader.load(dir, extra, Map.of("CAIRN_RAFT_PORT", "7009",
                "CAIRN_PEERS", "node-1=127.0.0.1:7009:8082,node-2=127.0.0.1:7010:8083"));
        assertThat(c.httpPort()).isEqualTo(8082);
        assertThat(c.raftPort()).isEqualTo(7009);
        assertThat(c.peers()).hasSize(2);
        assertThat(c.peers().get(1).raftAddress()).isEqualTo("127.0.0.1:7010");
        assertThat(c.peers().get(1).httpAddress()).isEqualTo("127.0.0.1:8083");
    }

    @Test
    void projectDefaultsFileIsValid() {
        CairnConfig c = ConfigLoader.load(Path.of("."), null, Map.of());
        assertThat(c.httpPort()).isEqualTo(8080);
    }

    @Test
    void badSettingsAreClearErrors() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(dir, null, Map.of("CAIRN_HTTP_PORT", "eighty")))
                .hasMessageContaining("httpPort");
        assertThatThrownBy(() -> ConfigLoader.load(dir, null, Map.of("CAIRN_PEERS", "node-2=h:1:2")))
                .hasMessageContaining("must include this node");
        assertThatThrownBy(() -> ConfigLoader.load(dir, null, Map.of("CAIRN_PEERS", "node-1=h:1")))
                .hasMessageContaining("id=host:raftPort:httpPort");
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"httpPortt\": 1}");
        assertThatThrownBy(() -> ConfigLoader.load(dir, bad, Map.of())).hasMessageContaining("unknown setting");
    }
}
