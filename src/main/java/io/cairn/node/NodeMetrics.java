package io.cairn.node;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters the node keeps about itself, cheap to update from any thread. The metrics endpoint
 * reads them; so do tests and benchmarks.
 */
public final class NodeMetrics {
    private final LongAdder persists = new LongAdder();
    private final LongAdder persistedEntries = new LongAdder();
    private final LongAdder persistNanos = new LongAdder();
    private final AtomicLong persistNanosMax = new AtomicLong();
    private final LongAdder appliedEntries = new LongAdder();
    private final LongAdder applyBatches = new LongAdder();
    private final LongAdder applyNanos = new LongAdder();
    private final LongAdder snapshots = new LongAdder();
    private final LongAdder snapshotNanos = new LongAdder();
    private final LongAdder proposals = new LongAdder();
    private final LongAdder forwarded = new LongAdder();
    private final LongAdder leaderChanges = new LongAdder();

    void persisted(int entries, long nanos) {
        persists.increment();
        persistedEntries.add(entries);
        persistNanos.add(nanos);
        persistNanosMax.accumulateAndGet(nanos, Math::max);
    }

    void applied(int entries, long nanos) {
        applyBatches.increment();
        appliedEntries.add(entries);
        applyNanos.add(nanos);
    }

    void snapshot(long nanos) {
        snapshots.increment();
        snapshotNanos.add(nanos);
    }

    public void proposed() {
        proposals.increment();
    }

    public void forwarded() {
        forwarded.increment();
    }

    void leaderChanged() {
        leaderChanges.increment();
    }

    public long leaderChanges() { return leaderChanges.sum(); }

    public long persists() { return persists.sum(); }
    public long persistedEntries() { return persistedEntries.sum(); }
    public long persistNanos() { return persistNanos.sum(); }
    public long persistNanosMax() { return persistNanosMax.get(); }
    public long appliedEntries() { return appliedEntries.sum(); }
    public long applyBatches() { return applyBatches.sum(); }
    public long applyNanos() { return applyNanos.sum(); }
    public long snapshots() { return snapshots.sum(); }
    public long snapshotNanos() { return snapshotNanos.sum(); }
    public long proposals() { return proposals.sum(); }
    public long forwardedWrites() { return forwarded.sum(); }
}
