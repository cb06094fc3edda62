package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Operations under a running workload, on 3 real processes (issue 7):
 * <ul>
 *   <li><b>SIGTERM of the leader</b>: a graceful stop hands leadership off first, so writing is
 *       never impossible for longer than one election timeout (checked: the longest gap between two
 *       successful writes, over all clients, while the leader stops); a {@code kill -9} of the
 *       leader is measured beside it for comparison;</li>
 *   <li><b>crashes during membership changes</b>: the leader is killed (a) with a removal
 *       appended on it alone (both followers stopped), (b) right after a removal committed, and
 *       (c) while a re-added node (new data directory, {@code CAIRN_JOIN}) catches up as a learner.
 *       Every member must end with the same membership, and the re-added node a voter.</li>
 * </ul>
 * Then the history is checked (linearizable, no acknowledged write lost, replicas equal).
 * {@code cairn.fault.seed} replays the workload.
 */
class ClusterOpsIT {
    private static final Path JAR = Path.of("target", "cairn.jar");
    /** One election timeout at most: {@code CAIRN_ELECTION_TICKS} (10) randomized up to 2x, of {@code CAIRN_TICK_MS} (50). */
    static final long ELECTION_MILLIS_MAX = 2 * 10 * 50;

    @Test
    void gracefulStopsAndCrashesDuringMembershipChangesKeepWritesFlowingAndTheHistoryLinearizable() throws Exception {
        ProcessCluster.assumeClusterableNode(JAR);
        long seed = Long.getLong("cairn.fault.seed", System.nanoTime());
        System.out.println("ClusterOpsIT seed=" + seed + " (replay: -Dcairn.fault.seed=" + seed + ")");
        Vertx vertx = Vertx.vertx();
        try (ProcessCluster cluster = ProcessCluster.start(KvFaultIT.options(3))) {
            try {
                cluster.awaitLeader(Duration.ofSeconds(60));
                List<String> http = cluster.nodes().stream().map(ProcessCluster.Node::httpAddress).toList();
                HistoryRecorder recorder = new HistoryRecorder();
                Workload workload = new Workload(vertx, Workload.Config.of(seed, http).withClients(5).withOps(1_000_000, Duration.ofMinutes(10))
                        .withRequestTimeout(Duration.ofMillis(KvFaultIT.SERVER_TIMEOUT_MS + 2000)), recorder);
                Future<Workload.Summary> run = workload.run();
                HistoryChecks.runFor(2_000);

                List<String> report = new ArrayList<>();
                for (int round = 1; round <= 2; round++) {
                    long gap = stopLeader(cluster, recorder, true);
                    report.add("SIGTERM of the leader, round " + round + ": longest write gap " + gap + " ms");
                    assertThat(gap).as("longest time without a successful write while the leader stopped gracefully (round %d)", round)
                            .isLessThanOrEqualTo(ELECTION_MILLIS_MAX);
                }
                report.add("kill -9 of the leader (for comparison, not checked): longest write gap " + stopLeader(cluster, recorder, false) + " ms");
                // After the restarts above, nodes have installed each other's snapshots: with one
                // proxy per directed link, the isolation below leaked and no leader was elected
                // (seeds 17750468752937, 18724850877825); the proxies per destination must hold.
                report.add(removalAppendedOnTheLeaderAlone(cluster));

                report.add(removalCommittedThenLeaderKilled(cluster, new Random(seed)));

                Workload.Summary summary = run.isComplete() ? run.result() : stop(workload, run);
                HistoryChecks.Result checks = HistoryChecks.run(vertx, cluster, recorder, workload.config().collection());
                report.add("workload " + summary + "; " + checks.summary());
                report.forEach(line -> System.out.println("ClusterOpsIT: " + line));
                List<String> problems = new ArrayList<>(checks.problems());
                if (summary.unexpected() > 0) problems.add("unexpected answers: " + summary.unexpectedSamples());
                assertThat(problems).as("seed %d: %s", seed, String.join("\n", problems)).isEmpty();
            } catch (AssertionError | RuntimeException e) {
                Path logs = Path.of("target", "fault-logs", "ops-" + seed);
                cluster.saveLogs(logs);
                System.out.println("seed " + seed + " failed; node logs in " + logs.toAbsolutePath());
                throw e;
            }
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    private static Workload.Summary stop(Workload workload, Future<Workload.Summary> run) throws Exception {
        workload.stop();
        Workload.Summary s = run.await(60, TimeUnit.SECONDS);
        workload.close();
        return s;
    }

    /**
     * Stops the leader (SIGTERM when {@code graceful}, else kill -9), waits for the next leader,
     * lets the workload run, restarts the node; answers the longest write gap from the stop to 4 s
     * after it.
     */
    private static long stopLeader(ProcessCluster cluster, HistoryRecorder recorder, boolean graceful) {
        String leader = cluster.awaitLeader(Duration.ofSeconds(60)).id();
        cluster.awaitReady(Duration.ofSeconds(60));
        HistoryChecks.runFor(1_000);
        long from = System.nanoTime();
        if (graceful) cluster.terminate(leader);
        else cluster.kill(leader);
        cluster.awaitLeader(Duration.ofSeconds(30));
        HistoryChecks.runFor(Math.max(0, 4_000 - (System.nanoTime() - from) / 1_000_000));
        long to = System.nanoTime();
        cluster.restart(leader);
        cluster.awaitReady(Duration.ofSeconds(60));
        return HistoryChecks.longestWriteGapMillis(recorder, from, to);
    }

    /**
     * (a) The leader cut off from both followers (every link through the proxies dropped), a
     * removal sent to it at once (appended there alone, it cannot commit), the leader killed, the
     * links healed, the leader restarted: the change never committed, so every node must end with
     * the three voters it had, the restarted leader having dropped the entry from its log.
     */
    private static String removalAppendedOnTheLeaderAlone(ProcessCluster cluster) {
        String leader = cluster.awaitLeader(Duration.ofSeconds(60)).id();
        cluster.awaitReady(Duration.ofSeconds(60));
        List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
        String before = NodeHttp.members(cluster, leader);
        cluster.isolate(leader);
        CompletableFuture<HttpResponse<String>> answer = NodeHttp.callAsync(cluster, leader, "DELETE",
                "/v1/cluster/members/" + followers.get(0), null, Duration.ofSeconds(10));
        HistoryChecks.runFor(200);
        cluster.kill(leader);
        cluster.heal();
        cluster.awaitLeader(Duration.ofSeconds(30));
        cluster.restart(leader);
        cluster.awaitReady(Duration.ofSeconds(60));
        String agreed = awaitSameMembership(cluster, cluster.ids());
        assertThat(agreed).as("a removal that never committed is undone everywhere").isEqualTo(before);
        String ended = !answer.isDone() ? "unanswered" : answer.isCompletedExceptionally() ? "failed" : "answered " + answer.join().statusCode();
        return "removal of " + followers.get(0) + " appended on the isolated leader " + leader + " alone, leader killed: every node kept "
                + agreed + " (the request: " + ended + ")";
    }

    /**
     * (b) A follower removed, the leader killed as soon as the removal is answered, restarted: the
     * two remaining members must agree the follower is gone. (c) The removed node comes back with a
     * new data directory and {@code CAIRN_JOIN}; as soon as it is a member (a learner catching up),
     * the leader is killed again and restarted: all three must end as voters, agreeing.
     */
    private static String removalCommittedThenLeaderKilled(ProcessCluster cluster, Random random) {
        String leader = cluster.awaitLeader(Duration.ofSeconds(60)).id();
        List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
        String removed = followers.get(random.nextInt(followers.size()));
        HttpResponse<String> r = NodeHttp.call(cluster, leader, "DELETE", "/v1/cluster/members/" + removed, null, Duration.ofSeconds(10));
        cluster.kill(leader);
        assertThat(r).as("the removal was answered").isNotNull();
        assertThat(r.statusCode()).as("DELETE member: %s", r.body()).isEqualTo(204);
        cluster.restart(leader);
        List<String> remaining = cluster.ids().stream().filter(id -> !id.equals(removed)).toList();
        String afterRemoval = awaitSameMembership(cluster, remaining);
        assertThat(afterRemoval).as("the removal committed").doesNotContain(removed + "=");

        cluster.kill(removed);
        cluster.wipe(removed);
        String join = remaining.stream().map(id -> cluster.node(id).httpAddress()).collect(Collectors.joining(","));
        cluster.setEnv(removed, "CAIRN_JOIN", join);
        cluster.restart(removed);
        String[] current = new String[1];
        Await.until(removed + " to be a member again", Duration.ofSeconds(60), () -> {
            String l = cluster.leader();
            current[0] = l;
            String m = l == null ? null : NodeHttp.members(cluster, l);
            return m != null && m.contains(removed + "=");
        }, () -> "leader " + current[0]);
        String killed = current[0];
        cluster.kill(killed);
        cluster.restart(killed);
        String agreed = awaitSameMembership(cluster, cluster.ids(), "voter", 3);
        cluster.awaitReady(Duration.ofSeconds(60));
        return "removal of " + removed + " committed, leader " + leader + " killed on the answer: " + afterRemoval
                + "; " + removed + " re-joined with a new data directory, leader " + killed + " killed while it caught up: " + agreed;
    }

    private static String awaitSameMembership(ProcessCluster cluster, List<String> ids) {
        return awaitSameMembership(cluster, ids, null, 0);
    }

    /** Waits until the nodes report the same members (and, if given, {@code voters} of them voters). */
    private static String awaitSameMembership(ProcessCluster cluster, List<String> ids, String role, int voters) {
        String[] seen = new String[1];
        Await.until("nodes " + ids + " to agree on their members", Duration.ofSeconds(60), () -> {
            List<String> views = new ArrayList<>();
            for (String id : ids) views.add(NodeHttp.members(cluster, id));
            seen[0] = String.join(" | ", String.valueOf(views));
            if (views.contains(null) || views.stream().distinct().count() != 1) return false;
            return role == null || views.get(0).split("=" + role, -1).length - 1 == voters;
        }, () -> seen[0]);
        return NodeHttp.members(cluster, ids.get(0));
    }
}
