package io.cairn.raft;

/** The outcome of {@link Replication#readIndex(long)}, delivered in {@link Ready#readResults()}. */
public sealed interface ReadResult {
    long requestId();

    /**
     * Leadership was confirmed after the read arrived: the read may be served once the state machine
     * has applied {@code index} (dissertation §6.4).
     */
    record Confirmed(long requestId, long index) implements ReadResult {}

    record Failed(long requestId, Reason reason) implements ReadResult {}

    enum Reason { NOT_LEADER, LEADERSHIP_LOST, TIMEOUT, BACKPRESSURE }
}
