package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The cluster harness on stand-in processes ({@link FakeNodeMain}): start, signals, restart, wipe, cleanup. */
class ProcessClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private ProcessCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) cluster.close();
    }

    private static ProcessCluster fakeCluster(int nodes) {
        String classes;
        try {
            classes = Path.of(FakeNodeMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return ProcessCluster.start(ProcessCluster.options().nodes(nodes).command(n -> List.of(
                ProcessCluster.javaBinary(), "-Xmx32m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", classes, FakeNodeMain.class.getName())));
    }

    /** Connects to a proxy as node {@code from} (a Cairn hello first) and reads the target's greeting line. */
    private static String greeting(String from, int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(HostileInput.hello("cairn", from));
            InputStream in = s.getInputStream();
            StringBuilder sb = new StringBuilder();
            for (int c; (c = in.read()) != -1 && c != '\n'; ) sb.append((char) c);
            return sb.toString();
        }
    }

    private static int startsRecorded(ProcessCluster.Node n) throws IOException {
        Path starts = n.dataDir().resolve("starts");
        return Files.exists(starts) ? Files.readAllLines(starts).size() : 0;
    }

    /** The process state letter from /proc ('T' when stopped), or '?' off Linux. */
    private static char procState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            return '?';
        }
    }

    @Test
    void startsNodesWithTheirEnvironmentAndPeersBehindProxies() throws Exception {
        cluster = fakeCluster(3);
        cluster.awaitReady(WAIT);
        assertThat(cluster.awaitLeader(WAIT).id()).isEqualTo("n1");
        assertThat(cluster.linksAsConfigured()).isEmpty();

        ProcessCluster.Node n1 = cluster.node("n1");
        String peers = "n1=127.0.0.1:" + cluster.proxy("n1").port() + ":" + n1.httpPort()
                + ",n2=127.0.0.1:" + cluster.proxy("n2").port() + ":" + cluster.node("n2").httpPort()
                + ",n3=127.0.0.1:" + cluster.proxy("n3").port() + ":" + cluster.node("n3").httpPort();
        assertThat(cluster.envFor(n1)).containsEntry("CAIRN_NODE_ID", "n1").containsEntry("CAIRN_ADVERTISE_HOST", "127.0.0.1")
                .containsEntry("CAIRN_DATA_DIR", n1.dataDir().toString()).containsEntry("CAIRN_PEERS", peers);
        assertThat(cluster.envFor(cluster.node("n3"))).as("every node has the same addresses").containsEntry("CAIRN_PEERS", peers);
        assertThat(cluster.proxies()).hasSize(3);
        // the proxy to n2 reaches n2's raft port
        assertThat(greeting("n1", cluster.proxy("n2").port())).isEqualTo("n2");
        assertThat(greeting("n3", cluster.proxy("n1").port())).isEqualTo("n1");

        cluster.isolate("n2");
        assertThat(cluster.link("n1", "n2")).isEqualTo(FaultProxy.Mode.DROP_ALL);
        assertThat(cluster.link("n2", "n3")).isEqualTo(FaultProxy.Mode.DROP_ALL);
        assertThat(cluster.link("n1", "n3")).isEqualTo(FaultProxy.Mode.PASS);
        assertThat(greeting("n1", cluster.proxy("n2").port())).isEmpty(); // closed once the hello named n1
        assertThat(greeting("n2", cluster.proxy("n3").port())).isEmpty();
        assertThat(greeting("n1", cluster.proxy("n3").port())).isEqualTo("n3");
        cluster.heal();
        assertThat(greeting("n1", cluster.proxy("n2").port())).isEqualTo("n2");

        cluster.partition(Set.of("n1", "n2"));
        assertThat(cluster.link("n1", "n2")).isEqualTo(FaultProxy.Mode.PASS);
        assertThat(cluster.link("n3", "n2")).isEqualTo(FaultProxy.Mode.DROP_ALL);
        assertThat(cluster.link("n1", "n3")).isEqualTo(FaultProxy.Mode.DROP_ALL);
        assertThat(greeting("n1", cluster.proxy("n2").port())).isEqualTo("n2");
        assertThat(greeting("n3", cluster.proxy("n2").port())).isEmpty();
        cluster.heal();
        cluster.cutOneWay("n3", "n1");
        assertThat(greeting("n3", cluster.proxy("n1").port())).isEmpty();
        assertThat(greeting("n1", cluster.proxy("n3").port())).isEqualTo("n3");
        cluster.heal();
        assertThat(Files.readString(n1.log())).contains("=== harness: start #1 of n1", "fake node n1 up");

        int proxyPort = cluster.proxy("n2").port();
        cluster.close();
        try (java.net.ServerSocket s = new java.net.ServerSocket(proxyPort, 1, InetAddress.getLoopbackAddress())) {
            assertThat(s.getLocalPort()).as("the proxy's port is free again").isEqualTo(proxyPort);
        }
    }

    @Test
    void killRestartPauseResumeWipeAndCloseOneNode() throws Exception {
        cluster = fakeCluster(1);
        cluster.awaitReady(WAIT);
        ProcessCluster.Node n1 = cluster.node("n1");

        long pid = n1.pid();
        cluster.kill("n1");
        assertThat(n1.running()).isFalse();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        cluster.restart("n1");
        cluster.awaitReady("n1", WAIT);
        assertThat(n1.starts()).isEqualTo(2);
        assertThat(startsRecorded(n1)).isEqualTo(2); // same data directory

        cluster.pause("n1");
        assertThat(n1.serving()).isFalse();
        Await.until("n1 stopped", WAIT, () -> procState(n1.pid()) == 'T' || procState(n1.pid()) == '?');
        cluster.resume("n1");
        cluster.awaitReady("n1", WAIT);
        assertThat(procState(n1.pid())).isNotEqualTo('T');

        assertThatThrownBy(() -> cluster.wipe("n1")).hasMessageContaining("while it runs");
        cluster.kill("n1");
        cluster.wipe("n1");
        assertThat(n1.dataDir()).isEmptyDirectory();
        cluster.restart("n1");
        cluster.awaitReady("n1", WAIT);
        assertThat(startsRecorded(n1)).isEqualTo(1);

        // close() kills even a stopped process, and deletes every directory
        cluster.pause("n1");
        long last = n1.pid();
        Path root = cluster.root();
        cluster.close();
        assertThat(ProcessHandle.of(last).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(root).doesNotExist();
        cluster.close(); // idempotent
    }

    @Test
    void anExitedNodeIsReportedWithItsLog() throws Exception {
        cluster = ProcessCluster.start(ProcessCluster.options().nodes(1).command(n -> List.of(
                ProcessCluster.javaBinary(), "-Xmx32m", "-cp", "/nonexistent", "NoSuchMain")));
        assertThatThrownBy(() -> cluster.awaitReady("n1", WAIT))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("n1 exited with code")
                .hasMessageContaining("NoSuchMain");
        assertThat(new String(Files.readAllBytes(cluster.node("n1").log()), StandardCharsets.UTF_8)).contains("NoSuchMain");
    }

    @Test
    void aMissingJarSkipsTheTest() {
        assertThatThrownBy(() -> ProcessCluster.start(ProcessCluster.options().jar(Path.of("target", "no-such.jar"))))
                .isInstanceOf(TestAbortedException.class)
                .hasMessageContaining("no-such.jar is missing");
    }

    @Test
    void freePortsAreDistinct() {
        int[] ports = io.cairn.Ports.free(20);
        assertThat(java.util.Arrays.stream(ports).distinct().count()).isEqualTo(20);
        // below the ephemeral range: no outgoing connection can be given one of them meanwhile
        assertThat(java.util.Arrays.stream(ports).boxed().toList()).allMatch(p -> p >= 10_000 && p < io.cairn.Ports.ephemeralStart());
    }
}
