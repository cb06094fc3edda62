package io.cairn.raft;

/**
 * The state Raft must persist before answering any message that depends on it (Raft paper,
 * Figure 2 "Persistent state"): the current term, the vote cast in it ({@code null} for none),
 * and the commit index (written only along with something else that must be written: an
 * optimisation, never required for safety; a restarted node learns the commit from its leader).
 */
public record HardState(long term, String votedFor, long commit) {
    public static final HardState EMPTY = new HardState(0, null, 0);

    public HardState {
        if (term < 0) throw new IllegalArgumentException("term must be >= 0: " + term);
        if (commit < 0) throw new IllegalArgumentException("commit must be >= 0: " + commit);
    }
}
