package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.fault.LinearizabilityChecker.Verdict;
import io.cairn.fault.StreamChecker.Filter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * End-to-end fault test on real processes (issue 7): a seeded workload and a resuming change
 * subscriber against N nodes while a seeded schedule kills, pauses, isolates, partitions and
 * slows them; then linearizability, whole streams and no lost acknowledged write are checked.
 * Runs in {@code integration-test} (failsafe, after {@code package}); skips until
 * {@code target/cairn.jar} is a clustering node. Settings (system properties):
 * {@code cairn.fault.seed} (default: random, printed), {@code cairn.fault.seconds} (default 60),
 * {@code cairn.fault.nodes} (default "3"; {@code -Pchaos}: "3,5").
 */
class KvFaultIT {
    private static final Path JAR = Path.of("target", "cairn.jar");

    static Stream<Integer> clusterSizes() {
        return Arrays.stream(System.getProperty("cairn.fault.nodes", "3").split(",")).map(String::trim).map(Integer::valueOf);
    }

    @ParameterizedTest(name = "{0} nodes")
    @MethodSource("clusterSizes")
    void aSeededScheduleOfFaultsKeepsTheHistoryLinearizableAndTheStreamsWhole(int nodes) throws Exception {
        ProcessCluster.assumeClusterableNode(JAR);
        long seed = Long.getLong("cairn.fault.seed", System.nanoTime());
        Duration length = Duration.ofSeconds(Long.getLong("cairn.fault.seconds", 60));
        System.out.println("KvFaultIT seed=" + seed + " nodes=" + nodes + " (replay: -Dcairn.fault.seed=" + seed + ")");
        Vertx vertx = Vertx.vertx();
        try (ProcessCluster cluster = ProcessCluster.start(ProcessCluster.options().nodes(nodes))) {
            try {
                cluster.awaitLeader(Duration.ofSeconds(60));
                assertThat(cluster.linksAsConfigured()).as("every peer link through its own proxy").isEmpty();
                List<String> http = cluster.nodes().stream().map(ProcessCluster.Node::httpAddress).toList();
                HistoryRecorder recorder = new HistoryRecorder();
                Workload workload = new Workload(vertx, Workload.Config.of(seed, http).withOps(1_000_000, length), recorder);
                ChangeSubscriber subscriber = new ChangeSubscriber(vertx, "all", http, new Filter(workload.config().collection(), null), 0L, seed);
                subscriber.start().await(10, TimeUnit.SECONDS);

                Future<Workload.Summary> run = workload.run();
                FaultSchedule.standard(seed, cluster.ids(), length.minusSeconds(5)).run(cluster, System.out::println);
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

                LinearizabilityChecker.Result lin = LinearizabilityChecker.check(new KvModel(), recorder.history());
                StreamChecker.Report streams = StreamChecker.check(committed, List.of(subscriber.subscriber()), lastRev);
                List<String> lost = StreamChecker.checkAcknowledged(committed, recorder.acknowledged());
                System.out.println(lin.report());
                System.out.println(streams.text());
                List<String> problems = new ArrayList<>();
                if (lin.verdict() != Verdict.OK) problems.add(lin.report());
                if (!streams.ok()) problems.add(streams.text());
                problems.addAll(lost);
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
}
