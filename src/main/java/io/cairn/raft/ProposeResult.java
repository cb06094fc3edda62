package io.cairn.raft;

/** The answer of {@link Replication#propose(byte[])} and {@link Replication#proposeMembership}. */
public sealed interface ProposeResult {
    /** Appended at {@code index} in {@code term}; committed only if that entry later applies. */
    record Accepted(long index, long term) implements ProposeResult {}

    /** This node is not the leader; {@code leaderId} is the known leader or {@code null}. */
    record NotLeader(String leaderId) implements ProposeResult {}

    record Refused(Reason reason) implements ProposeResult {}

    enum Reason {
        /** A leadership transfer is in progress (dissertation §3.10). */
        TRANSFERRING,
        /** Payload larger than {@link Config#entryBytesMax()}. */
        TOO_LARGE,
        /** More than {@link Config#uncommittedBytesMax()} bytes wait for commit. */
        BACKPRESSURE,
        /** A membership change is uncommitted, or the leader has not committed in its term yet. */
        CHANGE_PENDING,
        /** The change makes no sense (unknown or duplicate member, removing the last voter). */
        INVALID_CHANGE
    }
}
