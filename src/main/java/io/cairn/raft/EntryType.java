package io.cairn.raft;

/** What a log entry carries. */
public enum EntryType {
    /** An application command (opaque bytes for the state machine). */
    NORMAL,
    /** The empty entry a new leader appends at the start of its term (Raft paper §8). */
    NOOP,
    /** A membership change; {@code data} encodes the new {@link Membership}. */
    MEMBERSHIP
}
