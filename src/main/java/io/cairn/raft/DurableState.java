package io.cairn.raft;

import java.util.List;
import java.util.Objects;

/**
 * What a node restores from its disk when {@link Replication} is constructed: the hard state, the
 * last snapshot (or the base of the log), the entries after it in order, and the index the state
 * machine has applied (its {@code applied_index}; {@code snapshot.index()} when it restores from the
 * snapshot).
 *
 * <p>A brand-new node of a bootstrapped cluster starts from {@link #bootstrap(Membership)}: the
 * initial membership sits in a snapshot of index 0, which the application persists as its log base.
 * A node that will be added to a running cluster starts from {@link #joining()}: it knows no
 * membership, is no voter, never campaigns, and learns everything from the leader.
 */
public record DurableState(HardState hardState, SnapshotMeta snapshot, List<Entry> entries, long appliedIndex) {
    public DurableState {
        Objects.requireNonNull(hardState, "hardState");
        Objects.requireNonNull(snapshot, "snapshot");
        entries = List.copyOf(entries);
        if (appliedIndex < snapshot.index()) {
            throw new IllegalArgumentException("appliedIndex " + appliedIndex + " below snapshot " + snapshot.index());
        }
    }

    public static DurableState bootstrap(Membership initial) {
        return new DurableState(HardState.EMPTY, new SnapshotMeta(0, 0, initial), List.of(), 0);
    }

    public static DurableState joining() {
        return new DurableState(HardState.EMPTY, SnapshotMeta.EMPTY, List.of(), 0);
    }
}
