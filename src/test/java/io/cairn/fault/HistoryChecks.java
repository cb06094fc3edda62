package io.cairn.fault;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The end-of-run checks the fault tests share, on a healed cluster: the history is linearizable,
 * every acknowledged write is in the committed change history at its rev, and every serving node
 * holds the same documents.
 */
final class HistoryChecks {
    /** What the checks found ({@code problems} empty when all passed) and a one-line summary. */
    record Result(List<String> problems, String summary) {}

    private HistoryChecks() {}

    static Result run(Vertx vertx, ProcessCluster cluster, HistoryRecorder recorder, String collection) throws Exception {
        ProcessCluster.Node leader = cluster.awaitLeader(Duration.ofSeconds(60));
        cluster.awaitReady(Duration.ofSeconds(60));
        List<StreamChecker.Committed> committed = Workload.fetchCommitted(vertx, leader.httpAddress(), 0).await(60, TimeUnit.SECONDS);
        long lastRev = committed.isEmpty() ? 0 : committed.get(committed.size() - 1).rev();
        LinearizabilityChecker.Result lin = LinearizabilityChecker.check(new KvModel(), recorder.history());
        List<String> problems = new ArrayList<>();
        if (!lin.ok()) problems.add(lin.report());
        problems.addAll(StreamChecker.checkAcknowledged(committed, recorder.acknowledged()));
        problems.addAll(KvFaultIT.replicasDiffer(cluster, collection, lastRev));
        String summary = "ops " + recorder.counts() + ", linearizability " + lin.verdict() + " (" + lin.partitions().size()
                + " partitions), committed changes " + committed.size() + ", acknowledged writes lost "
                + StreamChecker.checkAcknowledged(committed, recorder.acknowledged()).size() + ", replicas "
                + (KvFaultIT.replicasDiffer(cluster, collection, lastRev).isEmpty() ? "equal" : "DIFFER");
        return new Result(problems, summary);
    }

    /**
     * The longest time, within {@code [fromNanos, toNanos]}, between two writes that succeeded
     * (answered 2xx or a definite 404/412), over all clients: how long writing was impossible.
     */
    static long longestWriteGapMillis(HistoryRecorder recorder, long fromNanos, long toNanos) {
        List<Long> done = new ArrayList<>();
        for (Operation<KvInput, KvOutput> op : recorder.history()) {
            if (op.outcome() != Outcome.OK || op.input() instanceof KvInput.Read) continue;
            if (op.returnNanos() >= fromNanos && op.returnNanos() <= toNanos) done.add(op.returnNanos());
        }
        done.add(fromNanos);
        done.add(toNanos);
        done.sort(null);
        long gap = 0;
        for (int i = 1; i < done.size(); i++) gap = Math.max(gap, done.get(i) - done.get(i - 1));
        return gap / 1_000_000;
    }

    /** Parks the test thread until {@code millis} passed: lets the workload run during a step of a fault scenario. */
    static void runFor(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        for (long left; (left = deadline - System.nanoTime()) > 0; ) java.util.concurrent.locks.LockSupport.parkNanos(left);
    }
}
