package io.cairn.raft;

import java.util.ArrayDeque;

/**
 * The leader's view of one follower or learner (etcd-io/raft's Progress): how far its log matches,
 * what to send next, and the flow-control state. Owned by {@link Replication}; not thread-safe.
 */
final class Progress {
    enum State {
        /** Unknown match: one AppendEntries at a time, per heartbeat, to find where logs agree. */
        PROBE,
        /** Known match: AppendEntries pipelined up to {@code inflightMax} unacknowledged. */
        REPLICATE,
        /** Its next entry is compacted away: an InstallSnapshot transfer is running. */
        SNAPSHOT
    }

    final String id;
    State state = State.PROBE;
    long match;
    long next;
    /** PROBE: an append was sent and neither answered nor a heartbeat answered since. */
    boolean probeSent;
    /** REPLICATE: last index of each unacknowledged append, oldest first. */
    final ArrayDeque<Long> inflight = new ArrayDeque<>();
    /** CheckQuorum: heard from it in the current check period. */
    boolean recentActive;
    /** Highest heartbeat readSeq / sentTick it acknowledged in this term. */
    long ackedReadSeq;
    long ackedSentTick = -1;

    // SNAPSHOT transfer: the snapshot being sent, the offset it expects, and the read we wait for.
    SnapshotMeta snapshotMeta;
    long snapshotOffset;
    boolean snapshotReadPending;
    int snapshotIdleTicks;

    Progress(String id, long next) {
        this.id = id;
        this.next = next;
    }

    boolean isPaused(int inflightMax) {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflight.size() >= inflightMax;
            case SNAPSHOT -> true;
        };
    }

    /** A success up to {@code index}: returns whether the match index moved. */
    boolean maybeUpdate(long index) {
        boolean updated = index > match;
        if (updated) {
            match = index;
            probeSent = false;
        }
        next = Math.max(next, index + 1);
        return updated;
    }

    /**
     * The follower lost entries it had acknowledged (its disk was wiped): outside Raft's model, so
     * the match index goes down here and only here. Commit never moves back; the follower is
     * probed again from {@code lastIndex + 1} (and sent a snapshot if that is compacted away).
     */
    void rewindAfterLoss(long lastIndex) {
        match = Math.max(0, lastIndex);
        next = match + 1;
        state = State.PROBE;
        probeSent = false;
        inflight.clear();
        snapshotMeta = null;
    }

    /**
     * A rejection of the append whose prevIndex was {@code rejected}; {@code matchHint} is where the
     * logs may agree. Returns false for a stale rejection.
     */
    boolean maybeDecrTo(long rejected, long matchHint) {
        if (state == State.REPLICATE) {
            if (rejected <= match) return false;
            next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
            return true;
        }
        if (next - 1 != rejected) return false;
        next = Math.max(Math.min(rejected, matchHint + 1), match + 1);
        probeSent = false;
        return true;
    }

    void becomeProbe() {
        if (state == State.SNAPSHOT) next = Math.max(match + 1, next);
        state = State.PROBE;
        probeSent = false;
        inflight.clear();
        snapshotMeta = null;
    }

    void becomeReplicate() {
        state = State.REPLICATE;
        next = match + 1;
        inflight.clear();
        snapshotMeta = null;
    }

    void becomeSnapshot(SnapshotMeta meta) {
        state = State.SNAPSHOT;
        inflight.clear();
        snapshotMeta = meta;
        snapshotOffset = 0;
        snapshotReadPending = false;
        snapshotIdleTicks = 0;
    }

    void freeInflightTo(long index) {
        while (!inflight.isEmpty() && inflight.peekFirst() <= index) inflight.pollFirst();
    }
}
