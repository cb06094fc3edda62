package io.cairn.raft;

import java.util.List;
import java.util.Objects;

/**
 * A message between two Raft nodes. Every message names its sender ({@code from}), its addressee
 * ({@code to}) and the sender's current term; {@link #kind()} allows exhaustive switches in Java 17.
 * {@link Route#of(Message)} says which half of a node ({@link Election} or {@link Replication})
 * consumes it. Messages are immutable values; byte arrays inside them are owned by the message once
 * built and must not be mutated. {@link MessageCodec} turns them into bytes and back.
 */
public sealed interface Message {
    String from();

    String to();

    long term();

    Kind kind();

    /** The message types, for exhaustive switches. */
    enum Kind {
        PRE_VOTE_REQUEST, PRE_VOTE_RESPONSE, VOTE_REQUEST, VOTE_RESPONSE,
        APPEND_ENTRIES, APPEND_RESPONSE, HEARTBEAT, HEARTBEAT_RESPONSE,
        INSTALL_SNAPSHOT, INSTALL_SNAPSHOT_RESPONSE, TIMEOUT_NOW,
        READ_INDEX_REQUEST, READ_INDEX_RESPONSE
    }

    private static void check(String from, String to, long term) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (term < 0) throw new IllegalArgumentException("term must be >= 0: " + term);
    }

    /**
     * PreVote (dissertation §9.6): "would you vote for me in {@code term}?" sent with the term the
     * sender would campaign in (its current term + 1), without changing any state anywhere.
     */
    record PreVoteRequest(String from, String to, long term, long lastIndex, long lastTerm) implements Message {
        public PreVoteRequest { check(from, to, term); }
        public Kind kind() { return Kind.PRE_VOTE_REQUEST; }
    }

    /** Answer to a PreVote: {@code term} is the requested term if granted, else the responder's term. */
    record PreVoteResponse(String from, String to, long term, boolean granted) implements Message {
        public PreVoteResponse { check(from, to, term); }
        public Kind kind() { return Kind.PRE_VOTE_RESPONSE; }
    }

    /**
     * RequestVote (Raft paper §5.2). {@code transfer} marks a campaign started by TimeoutNow
     * (dissertation §3.10): it bypasses the leader-lease check of the voters.
     */
    record VoteRequest(String from, String to, long term, long lastIndex, long lastTerm, boolean transfer)
            implements Message {
        public VoteRequest { check(from, to, term); }
        public Kind kind() { return Kind.VOTE_REQUEST; }
    }

    record VoteResponse(String from, String to, long term, boolean granted) implements Message {
        public VoteResponse { check(from, to, term); }
        public Kind kind() { return Kind.VOTE_RESPONSE; }
    }

    /**
     * AppendEntries (Raft paper §5.3) with a batch of consecutive entries starting at
     * {@code prevIndex + 1}; {@code commit} is the leader's commit index.
     */
    record AppendEntries(String from, String to, long term, long prevIndex, long prevTerm, long commit,
                         List<Entry> entries) implements Message {
        public AppendEntries {
            check(from, to, term);
            entries = List.copyOf(entries);
            for (int i = 0; i < entries.size(); i++) {
                if (entries.get(i).index() != prevIndex + 1 + i) {
                    throw new IllegalArgumentException("entries not consecutive after " + prevIndex);
                }
            }
        }
        public Kind kind() { return Kind.APPEND_ENTRIES; }
    }

    /**
     * Answer to AppendEntries. On success {@code index} is the last index the follower now holds
     * matching the leader. On reject {@code index} is the rejected {@code prevIndex}, and
     * ({@code hintIndex}, {@code hintTerm}) is the follower's last entry at or below it whose term
     * is at most the leader's {@code prevTerm}: the leader skips a whole conflicting term at once
     * (Raft paper §5.3, last paragraphs; etcd's findConflictByTerm).
     */
    record AppendResponse(String from, String to, long term, boolean success, long index, long hintIndex,
                          long hintTerm) implements Message {
        public AppendResponse { check(from, to, term); }
        public Kind kind() { return Kind.APPEND_RESPONSE; }
    }

    /**
     * Leader heartbeat. {@code commit} is at most what the follower is known to hold. {@code readSeq}
     * numbers the broadcast (ReadIndex rounds, dissertation §6.4) and {@code sentTick} is the
     * leader's tick when it was built (leader lease, §6.4.1); both are echoed back.
     */
    record Heartbeat(String from, String to, long term, long commit, long readSeq, long sentTick)
            implements Message {
        public Heartbeat { check(from, to, term); }
        public Kind kind() { return Kind.HEARTBEAT; }
    }

    /**
     * Answer to a {@link Heartbeat}. {@code lostLogAt} is -1 normally; a follower whose log ends
     * before the commit index the heartbeat says it holds (its disk lost acknowledged entries: a
     * wiped data directory) sets it to its last index, so the leader rewinds that follower's
     * progress and repairs it, by snapshot if need be.
     */
    record HeartbeatResponse(String from, String to, long term, long readSeq, long sentTick, long lostLogAt)
            implements Message {
        public HeartbeatResponse { check(from, to, term); }
        public HeartbeatResponse(String from, String to, long term, long readSeq, long sentTick) {
            this(from, to, term, readSeq, sentTick, -1);
        }
        public Kind kind() { return Kind.HEARTBEAT_RESPONSE; }
    }

    /** One chunk of a snapshot (Raft paper §7): bytes at {@code offset}; {@code last} closes it. */
    record InstallSnapshot(String from, String to, long term, SnapshotMeta meta, long offset, byte[] data,
                           boolean last) implements Message {
        public InstallSnapshot {
            check(from, to, term);
            Objects.requireNonNull(meta, "meta");
            Objects.requireNonNull(data, "data");
            if (offset < 0) throw new IllegalArgumentException("negative offset");
        }
        public Kind kind() { return Kind.INSTALL_SNAPSHOT; }
    }

    /**
     * Answer to a chunk. {@code done}: the follower now holds everything up to
     * {@code snapshotIndex}. Otherwise {@code nextOffset} is the offset it expects next (0 when it
     * must start over).
     */
    record InstallSnapshotResponse(String from, String to, long term, long snapshotIndex, long nextOffset,
                                   boolean done) implements Message {
        public InstallSnapshotResponse { check(from, to, term); }
        public Kind kind() { return Kind.INSTALL_SNAPSHOT_RESPONSE; }
    }

    /** Leadership transfer (dissertation §3.10): "campaign now, skipping PreVote and leases". */
    record TimeoutNow(String from, String to, long term) implements Message {
        public TimeoutNow { check(from, to, term); }
        public Kind kind() { return Kind.TIMEOUT_NOW; }
    }

    /** A follower asks the leader for a read index (dissertation §6.4) on behalf of a client read. */
    record ReadIndexRequest(String from, String to, long term, long requestId) implements Message {
        public ReadIndexRequest { check(from, to, term); }
        public Kind kind() { return Kind.READ_INDEX_REQUEST; }
    }

    /** The leader's answer: {@code ok} with the confirmed read {@code index}, or not ok. */
    record ReadIndexResponse(String from, String to, long term, long requestId, long index, boolean ok)
            implements Message {
        public ReadIndexResponse { check(from, to, term); }
        public Kind kind() { return Kind.READ_INDEX_RESPONSE; }
    }
}
