package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Disk faults on real processes (issue 7): each node's data directory is a small tmpfs of its own;
 * under a running workload the disk of the leader, then of a follower, is filled to the last byte.
 * The node must then answer writes with a clear error ({@code 503 not_ready}, naming the storage
 * fault, and {@code /health/ready} 503), the others must go on (a new leader when it was the
 * leader), and once space returns and the node is restarted (its documented remedy) it must catch
 * up with nothing committed lost: the history stays linearizable, no acknowledged write is
 * missing, the replicas hold the same documents, and every SQLite file passes
 * {@code PRAGMA integrity_check}.
 *
 * <p>Why tmpfs: the tests run as root here, and root ignores file permissions ({@code chmod a-w}
 * changes nothing), so a full filesystem is the faithful fault. Mounting needs root with
 * {@code CAP_SYS_ADMIN}; without it the test is skipped with that reason.
 */
class DiskFaultIT {
    private static final Path JAR = Path.of("target", "cairn.jar");
    private static final String SIZE = "64m";

    @Test
    void aFullDiskIsAClearErrorAndARestartAfterSpaceReturnsLosesNothing() throws Exception {
        ProcessCluster.assumeClusterableNode(JAR);
        Assumptions.assumeTrue(canMountTmpfs(), "mounting a tmpfs needs root with CAP_SYS_ADMIN; disk-full faults skipped");
        long seed = Long.getLong("cairn.fault.seed", System.nanoTime());
        System.out.println("DiskFaultIT seed=" + seed + " (replay: -Dcairn.fault.seed=" + seed + ")");
        Vertx vertx = Vertx.vertx();
        ProcessCluster.Options options = KvFaultIT.options(3).dataDirs(n -> mount(n.dataDir()), n -> unmount(n.dataDir()));
        try (ProcessCluster cluster = ProcessCluster.start(options)) {
            try {
                cluster.awaitLeader(Duration.ofSeconds(60));
                List<String> http = cluster.nodes().stream().map(ProcessCluster.Node::httpAddress).toList();
                HistoryRecorder recorder = new HistoryRecorder();
                Workload workload = new Workload(vertx, Workload.Config.of(seed, http).withClients(5).withOps(1_000_000, Duration.ofMinutes(10))
                        .withRequestTimeout(Duration.ofMillis(KvFaultIT.SERVER_TIMEOUT_MS + 2000)), recorder);
                Future<Workload.Summary> run = workload.run();
                HistoryChecks.runFor(2_000);

                List<String> report = new ArrayList<>();
                report.add(fill(cluster, cluster.awaitLeader(Duration.ofSeconds(60)).id(), "the leader"));
                String leader = cluster.awaitLeader(Duration.ofSeconds(60)).id();
                String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
                report.add(fill(cluster, follower, "a follower"));

                workload.stop();
                Workload.Summary summary = run.await(60, TimeUnit.SECONDS);
                workload.close();
                HistoryChecks.Result checks = HistoryChecks.run(vertx, cluster, recorder, workload.config().collection());
                report.add("workload " + summary + "; " + checks.summary());
                List<String> problems = new ArrayList<>(checks.problems());
                for (ProcessCluster.Node n : cluster.nodes()) cluster.kill(n.id());
                for (ProcessCluster.Node n : cluster.nodes()) {
                    for (String file : List.of("raft-log.db", "state.db")) {
                        String check = integrity(n.dataDir().resolve(file));
                        if (!check.equals("ok")) problems.add(n.id() + "/" + file + ": integrity_check says " + check);
                    }
                }
                report.add("integrity_check of every raft-log.db and state.db: " + (problems.stream().anyMatch(p -> p.contains("integrity"))
                        ? "FAILED" : "ok"));
                report.forEach(line -> System.out.println("DiskFaultIT: " + line));
                if (summary.unexpected() > 0) problems.add("unexpected answers: " + summary.unexpectedSamples());
                assertThat(problems).as("seed %d: %s", seed, String.join("\n", problems)).isEmpty();
            } catch (AssertionError | RuntimeException e) {
                Path logs = Path.of("target", "fault-logs", "disk-" + seed);
                cluster.saveLogs(logs);
                System.out.println("seed " + seed + " failed; node logs in " + logs.toAbsolutePath());
                throw e;
            }
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Fills the node's disk, checks the clear error and that the others go on, frees the space,
     * restarts the node and waits until it is ready again.
     */
    private static String fill(ProcessCluster cluster, String victim, String role) throws IOException {
        Path filler = cluster.node(victim).dataDir().resolve("filler");
        long filled = fillUp(filler);
        long start = System.nanoTime();
        String[] last = new String[1];
        // the node notices at its next write to disk (a log append): it must then refuse writes, clearly
        Await.until(victim + " to refuse writes after its disk filled", Duration.ofSeconds(30), () -> {
            HttpResponse<String> r = NodeHttp.call(cluster, victim, "PUT", "/v1/collections/diskfault/docs/probe", "{\"p\":1}",
                    Duration.ofSeconds(8));
            last[0] = r == null ? "no answer" : r.statusCode() + " " + r.body();
            return r != null && r.statusCode() == 503 && "not_ready".equals(code(r)) && r.body().contains("storage");
        }, () -> last[0]);
        long refusedMillis = (System.nanoTime() - start) / 1_000_000;
        HttpResponse<String> ready = NodeHttp.call(cluster, victim, "GET", "/health/ready", null, Duration.ofSeconds(2));
        assertThat(ready).isNotNull();
        assertThat(ready.statusCode()).as("/health/ready of a node whose disk is full: %s", ready.body()).isEqualTo(503);
        assertThat(ready.body()).contains("storage");
        List<String> others = cluster.ids().stream().filter(id -> !id.equals(victim)).toList();
        String[] leaders = new String[2];
        Await.until("the other nodes to agree on a leader other than " + victim, Duration.ofSeconds(30), () -> {
            for (int i = 0; i < 2; i++) leaders[i] = cluster.leaderSeenBy(others.get(i));
            return leaders[0] != null && leaders[0].equals(leaders[1]) && !leaders[0].equals(victim);
        }, () -> others + " see " + leaders[0] + ", " + leaders[1]);
        long writable = System.nanoTime();
        HttpResponse<String> w = null;
        for (int i = 0; i < 50 && (w == null || w.statusCode() >= 500); i++) {
            w = NodeHttp.call(cluster, others.get(0), "PUT", "/v1/collections/diskfault/docs/after-" + victim, "{\"p\":2}", Duration.ofSeconds(8));
        }
        assertThat(w).isNotNull();
        assertThat(w.statusCode()).as("a write through %s while %s's disk is full: %s", others.get(0), victim, w.body()).isIn(200, 201);
        long writeMillis = (System.nanoTime() - writable) / 1_000_000;
        HistoryChecks.runFor(2_000);

        Files.delete(filler); // space returns
        cluster.kill(victim); // the node stopped itself for good; its supervisor (here, the test) restarts it
        cluster.restart(victim);
        cluster.awaitReady(victim, Duration.ofSeconds(60));
        return "disk of " + role + " " + victim + " filled (" + filled / 1024 + " KiB of filler): writes refused with 503 not_ready after "
                + refusedMillis + " ms, the others led by " + leaders[0] + " took a write (in " + writeMillis
                + " ms), ready again after space returned and a restart";
    }

    private static String code(HttpResponse<String> r) {
        try {
            return new JsonObject(r.body()).getJsonObject("error").getString("code");
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Writes zeros into {@code file} until the filesystem is full; answers the bytes written. */
    private static long fillUp(Path file) throws IOException {
        byte[] block = new byte[64 * 1024];
        long written = 0;
        try (OutputStream out = Files.newOutputStream(file)) {
            while (true) {
                out.write(block);
                written += block.length;
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("space")) throw e;
        }
        // the last partial block: fill to the very last byte
        byte[] one = new byte[512];
        for (int i = 0; i < 200; i++) {
            try (OutputStream out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.APPEND)) {
                out.write(one);
                written += one.length;
            } catch (IOException e) {
                break;
            }
        }
        return written;
    }

    private static String integrity(Path db) {
        if (!Files.exists(db)) return "missing";
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            return rs.next() ? rs.getString(1) : "no answer";
        } catch (Exception e) {
            return e.toString();
        }
    }

    // ---- tmpfs per node

    private static boolean canMountTmpfs() {
        try {
            Path probe = Files.createTempDirectory("cairn-mount-probe-");
            try {
                if (!exec("mount", "-t", "tmpfs", "-o", "size=1m", "cairn-probe", probe.toString())) return false;
                return exec("umount", probe.toString());
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException e) {
            return false;
        }
    }

    private static void mount(Path dir) {
        if (!exec("mount", "-t", "tmpfs", "-o", "size=" + SIZE, "cairn-fault", dir.toString())) {
            throw new IllegalStateException("cannot mount a tmpfs on " + dir);
        }
    }

    private static void unmount(Path dir) {
        exec("umount", "-l", dir.toString());
    }

    private static boolean exec(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            boolean ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            if (!ok) System.out.println(String.join(" ", command) + ": " + out.trim());
            return ok;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
