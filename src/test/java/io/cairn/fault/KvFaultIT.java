package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.fault.LinearizabilityChecker.Verdict;
import io.cairn.fault.StreamChecker.Filter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * End-to-end fault test on real processes (issue 7): a seeded workload and a resuming change
 * subscriber against N nodes while a seeded schedule kills (also in the middle of a snapshot),
 * stops gracefully (SIGTERM of the leader), pauses, isolates, partitions and slows them; then
 * linearizability, whole streams, no lost acknowledged write and identical replicas are checked.
 * Runs in {@code integration-test} (failsafe, after {@code package}); skips until
 * {@code target/cairn.jar} is a clustering node. Settings (system properties):
 * {@code cairn.fault.seed} (default: random, printed), {@code cairn.fault.seconds} (default 60),
 * {@code cairn.fault.nodes} (default "3"; {@code -Pchaos}: "3,5").
 *
 * <p>The nodes snapshot every {@value #SNAPSHOT_ENTRIES} entries (so restarted nodes often catch
 * up by snapshot) and answer {@code 504} after {@value #SERVER_TIMEOUT_MS} ms; clients wait
 * longer than that, so a slow write usually ends with the server's definite answer rather than a
 * client timeout.
 */
class KvFaultIT {
    private static final Path JAR = Path.of("target", "cairn.jar");
    static final int SNAPSHOT_ENTRIES = 200;
    static final int SERVER_TIMEOUT_MS = 3000;

    static Stream<Integer> clusterSizes() {
        return Arrays.stream(System.getProperty("cairn.fault.nodes", "3").split(",")).map(String::trim).map(Integer::valueOf);
    }

    /** The cluster options every fault test uses. */
    static ProcessCluster.Options options(int nodes) {
        return ProcessCluster.options().nodes(nodes)
                .env("CAIRN_SNAPSHOT_ENTRIES", Integer.toString(SNAPSHOT_ENTRIES))
                .env("CAIRN_WRITE_TIMEOUT_MS", Integer.toString(SERVER_TIMEOUT_MS))
                .env("CAIRN_READ_TIMEOUT_MS", Integer.toString(SERVER_TIMEOUT_MS));
    }

    @ParameterizedTest(name = "{0} nodes")
    @MethodSource("clusterSizes")
    void aSeededScheduleOfFaultsKeepsTheHistoryLinearizableAndTheStreamsWhole(int nodes) throws Exception {
        ProcessCluster.assumeClusterableNode(JAR);
        long seed = Long.getLong("cairn.fault.seed", System.nanoTime());
        Duration length = Duration.ofSeconds(Long.getLong("cairn.fault.seconds", 60));
        System.out.println("KvFaultIT seed=" + seed + " nodes=" + nodes + " (replay: -Dcairn.fault.seed=" + seed + ")");
        Vertx vertx = Vertx.vertx();
        try (ProcessCluster cluster = ProcessCluster.start(options(nodes))) {
            try {
                cluster.awaitLeader(Duration.ofSeconds(60));
                assertThat(cluster.linksAsConfigured()).as("every peer link through its own proxy").isEmpty();
                List<String> http = cluster.nodes().stream().map(ProcessCluster.Node::httpAddress).toList();
                HistoryRecorder recorder = new HistoryRecorder();
                Workload workload = new Workload(vertx, Workload.Config.of(seed, http).withOps(1_000_000, length)
                        .withClients(2 + nodes).withRequestTimeout(Duration.ofMillis(SERVER_TIMEOUT_MS + 2000)), recorder);
                ChangeSubscriber subscriber = new ChangeSubscriber(vertx, "all", http, new Filter(workload.config().collection(), null), 0L, seed);
                subscriber.start().await(10, TimeUnit.SECONDS);

                Future<Workload.Summary> run = workload.run();
                Map<FaultSchedule.Kind, Integer> faults = FaultSchedule.standard(seed, cluster.ids(), length.minusSeconds(5))
                        .run(cluster, System.out::println);
                Workload.Summary summary = run.await(length.toSeconds() + 60, TimeUnit.SECONDS);
                workload.close();
                System.out.println("workload: " + summary);

                cluster.heal();
                ProcessCluster.Node leader = cluster.awaitLeader(Duration.ofSeconds(60));
                cluster.awaitReady(Duration.ofSeconds(60));
                List<StreamChecker.Committed> committed = Workload.fetchCommitted(vertx, leader.httpAddress(), 0).await(60, TimeUnit.SECONDS);
                long lastRev = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).rev();
                Await.until("the subscriber to catch up to rev " + lastRev, Duration.ofSeconds(60), () -> subscriber.completeRev() >= lastRev,
                        () -> "at " + subscriber.completeRev());
                subscriber.stop().await(10, TimeUnit.SECONDS);

                long checkStart = System.nanoTime();
                LinearizabilityChecker.Result lin = LinearizabilityChecker.check(new KvModel(), recorder.history());
                long checkMillis = (System.nanoTime() - checkStart) / 1_000_000;
                StreamChecker.Report streams = StreamChecker.check(committed, List.of(subscriber.subscriber()), lastRev);
                List<String> lost = StreamChecker.checkAcknowledged(committed, recorder.acknowledged());
                List<String> diverged = replicasDiffer(cluster, workload.config().collection(), lastRev);
                System.out.println(lin.verdict() == Verdict.OK ? summaryOf(lin) : lin.report());
                System.out.println(streams.text());
                int[] snapshotCrashes = cluster.snapshotCrashes();
                System.out.printf("KvFaultIT summary: seed=%d nodes=%d seconds=%d ops=%d outcomes=%s keys=%d rotations=%d "
                                + "faults=%s snapshotCrashes(during=%d, after=%d) committedChanges=%d subscriberSessions=%d "
                                + "linearizability=%s (%d partitions, %d ms) streams=%s lost=%d diverged=%d%n",
                        seed, nodes, length.toSeconds(), summary.ops(), summary.outcomes(), summary.keys(), summary.rotations(),
                        faults, snapshotCrashes[0], snapshotCrashes[1], committed.size(), subscriber.subscriber().sessions().size(),
                        lin.verdict(), lin.partitions().size(), checkMillis, streams.ok() ? "OK" : "BROKEN", lost.size(), diverged.size());
                List<String> problems = new ArrayList<>();
                if (lin.verdict() != Verdict.OK) problems.add(lin.report());
                if (!streams.ok()) problems.add(streams.text());
                problems.addAll(lost);
                problems.addAll(diverged);
                if (summary.unexpected() > 0) problems.add("unexpected answers: " + summary.unexpectedSamples());
                assertThat(problems).as("seed %d: %s", seed, String.join("\n", problems)).isEmpty();
            } catch (AssertionError | RuntimeException e) {
                Path logs = Path.of("target", "fault-logs", "seed-" + seed);
                cluster.saveLogs(logs);
                System.out.println("seed " + seed + " failed; node logs in " + logs.toAbsolutePath());
                throw e;
            }
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    private static String summaryOf(LinearizabilityChecker.Result lin) {
        int ops = lin.partitions().stream().mapToInt(LinearizabilityChecker.PartitionResult::operations).sum();
        long states = lin.partitions().stream().mapToLong(LinearizabilityChecker.PartitionResult::states).sum();
        int largest = lin.partitions().stream().mapToInt(LinearizabilityChecker.PartitionResult::operations).max().orElse(0);
        return "linearizability: OK (" + lin.partitions().size() + " partitions, " + ops + " ops, largest " + largest + ", "
                + states + " states)";
    }

    /**
     * Every node, once it has applied {@code rev}, lists the same documents (key, rev) in the
     * collection as the first node: no replica diverged. Empty when they agree.
     */
    static List<String> replicasDiffer(ProcessCluster cluster, String collection, long rev) {
        List<String> problems = new ArrayList<>();
        String reference = null;
        String referenceNode = null;
        for (ProcessCluster.Node n : cluster.nodes()) {
            if (!n.serving()) continue;
            String listing = listing(cluster, n.id(), collection, rev);
            if (listing == null) {
                problems.add(n.id() + " did not list " + collection + " at rev " + rev);
            } else if (reference == null) {
                reference = listing;
                referenceNode = n.id();
            } else if (!reference.equals(listing)) {
                problems.add("replicas differ: " + referenceNode + " has " + abbreviate(reference) + ", " + n.id() + " has " + abbreviate(listing));
            }
        }
        return problems;
    }

    /** {@code key@rev} of every document of the collection, as the node sees it locally after applying {@code rev}. */
    static String listing(ProcessCluster cluster, String id, String collection, long rev) {
        StringBuilder out = new StringBuilder();
        String after = null;
        for (int page = 0; page < 1000; page++) {
            String q = "/v1/collections/" + collection + "/docs?limit=1000&consistency=local&minRev=" + rev
                    + (after == null ? "" : "&after=" + Workload.encode(after));
            HttpResponse<String> r = null;
            for (int attempt = 0; attempt < 20 && (r == null || r.statusCode() >= 500); attempt++) r = cluster.get(id, q);
            if (r == null) return null;
            if (r.statusCode() == 404) return "";
            if (r.statusCode() != 200) return null;
            JsonObject body = new JsonObject(r.body());
            for (Object o : body.getJsonArray("docs", new JsonArray())) {
                JsonObject d = (JsonObject) o;
                out.append(d.getString("key")).append('@').append(d.getLong("rev")).append(' ');
            }
            after = body.getString("next");
            if (after == null) return out.toString();
        }
        return null;
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
