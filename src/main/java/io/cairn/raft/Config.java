package io.cairn.raft;

import java.util.Objects;

/**
 * Settings of one node, shared by its {@link Replication} and {@link Election}. Every queue and
 * batch of the core is bounded by one of these. Times are in ticks (the node decides how long a
 * tick is, typically 100 ms); sizes in bytes as counted by {@link Entry#sizeBytes()}.
 *
 * @param id                    this node's id, as in {@link Member#id()}
 * @param electionTicks         minimum election timeout; the randomized timeout is in
 *                              [electionTicks, 2 * electionTicks); also the CheckQuorum period and
 *                              the lease length. Range [3, 1_000_000], > heartbeatTicks.
 * @param heartbeatTicks        leader heartbeat period, >= 1
 * @param appendEntriesMax      most entries in one AppendEntries, >= 1
 * @param appendBytesMax        most entry bytes in one AppendEntries (one larger entry still goes alone)
 * @param inflightMax           most unacknowledged AppendEntries per follower in the replicate state, >= 1
 * @param snapshotChunkBytes    size of an InstallSnapshot chunk the leader asks the application to read
 * @param preVote               run a PreVote round before a real election (dissertation §9.6)
 * @param checkQuorum           leader steps down without a quorum within electionTicks; also enables
 *                              leases (ignoring votes while a leader is known, lease reads)
 * @param leaseMarginTicks      safety margin of lease reads for clock drift, in [1, electionTicks)
 * @param applyEntriesMax       most committed entries in one {@link Ready}
 * @param applyBytesMax         most committed entry bytes in one {@link Ready} (one larger entry still goes)
 * @param uncommittedBytesMax   the leader refuses proposals beyond this many uncommitted bytes
 * @param entryBytesMax         largest accepted proposal payload
 * @param pendingReadsMax       most ReadIndex requests waiting (leader) or forwarded (follower)
 * @param promoteLagEntriesMax  the leader promotes a learner whose match index is within this many
 *                              entries of its last index
 * @param outboxMessagesMax     most messages queued between two Readies; beyond it messages are
 *                              dropped (Raft tolerates loss)
 */
public record Config(String id, int electionTicks, int heartbeatTicks, int appendEntriesMax, long appendBytesMax,
                     int inflightMax, int snapshotChunkBytes, boolean preVote, boolean checkQuorum,
                     int leaseMarginTicks, int applyEntriesMax, long applyBytesMax, long uncommittedBytesMax,
                     int entryBytesMax, int pendingReadsMax, int promoteLagEntriesMax, int outboxMessagesMax) {
    public Config {
        Objects.requireNonNull(id, "id");
        require(electionTicks >= 3 && electionTicks <= 1_000_000, "electionTicks in [3, 1000000]");
        require(heartbeatTicks >= 1 && heartbeatTicks < electionTicks, "heartbeatTicks in [1, electionTicks)");
        require(appendEntriesMax >= 1, "appendEntriesMax >= 1");
        require(appendBytesMax >= 1, "appendBytesMax >= 1");
        require(inflightMax >= 1 && inflightMax <= 1 << 16, "inflightMax in [1, 65536]");
        require(snapshotChunkBytes >= 1 && snapshotChunkBytes <= MessageCodec.CHUNK_BYTES_MAX,
                "snapshotChunkBytes in [1, " + MessageCodec.CHUNK_BYTES_MAX + "]");
        require(leaseMarginTicks >= 1 && leaseMarginTicks < electionTicks, "leaseMarginTicks in [1, electionTicks)");
        require(applyEntriesMax >= 1, "applyEntriesMax >= 1");
        require(applyBytesMax >= 1, "applyBytesMax >= 1");
        require(entryBytesMax >= 0 && entryBytesMax <= MessageCodec.ENTRY_BYTES_MAX,
                "entryBytesMax in [0, " + MessageCodec.ENTRY_BYTES_MAX + "]");
        require(uncommittedBytesMax >= entryBytesMax, "uncommittedBytesMax >= entryBytesMax");
        require(pendingReadsMax >= 1, "pendingReadsMax >= 1");
        require(promoteLagEntriesMax >= 0, "promoteLagEntriesMax >= 0");
        require(outboxMessagesMax >= 16, "outboxMessagesMax >= 16");
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("config: " + what);
    }

    /** Production defaults: 10 election ticks, heartbeat every tick, 1 MiB appends and chunks. */
    public static Config defaults(String id) {
        return new Config(id, 10, 1, 256, 1 << 20, 64, 1 << 20, true, true, 2,
                1024, 4L << 20, 64L << 20, 8 << 20, 4096, 128, 8192);
    }

    public Config withId(String newId) {
        return new Config(newId, electionTicks, heartbeatTicks, appendEntriesMax, appendBytesMax, inflightMax,
                snapshotChunkBytes, preVote, checkQuorum, leaseMarginTicks, applyEntriesMax, applyBytesMax,
                uncommittedBytesMax, entryBytesMax, pendingReadsMax, promoteLagEntriesMax, outboxMessagesMax);
    }

    public Config withPreVoteAndCheckQuorum(boolean newPreVote, boolean newCheckQuorum) {
        return new Config(id, electionTicks, heartbeatTicks, appendEntriesMax, appendBytesMax, inflightMax,
                snapshotChunkBytes, newPreVote, newCheckQuorum, leaseMarginTicks, applyEntriesMax, applyBytesMax,
                uncommittedBytesMax, entryBytesMax, pendingReadsMax, promoteLagEntriesMax, outboxMessagesMax);
    }
}
