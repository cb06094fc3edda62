package io.cairn.raft;

import java.util.List;

/**
 * Records {@link Replication} sends to {@link Election} of the same node, in {@link Ready#toElection()}.
 * They are delivered after the Ready that carries them is persisted, in order, possibly late; the
 * Election never relies on them being current (Replication re-checks everything that matters).
 */
public sealed interface ToElection {
    Kind kind();

    enum Kind { VIEW, LEADER_CONTACT, CAMPAIGN_STARTED, VOTE_CAST, YIELD }

    /**
     * What Election needs to know about the truth, sent whenever it changes: the current term and
     * role, the known leader ({@code null} if none), the last log position (for PreVote), the
     * voters of the latest configuration (an immutable list) and whether this node is one of them.
     */
    record View(long term, Role role, String leaderId, long lastIndex, long lastTerm, List<String> voters,
                boolean selfVoter) implements ToElection {
        public Kind kind() { return Kind.VIEW; }
    }

    /** The node accepted a message of the current leader of {@code term}: reset the election timer. */
    record LeaderContact(long term, String leaderId) implements ToElection {
        public Kind kind() { return Kind.LEADER_CONTACT; }
    }

    /**
     * Replication accepted {@link ToReplication.StartCampaign}: it is candidate in {@code term} and
     * has durably voted for itself. Election now asks {@code voters} for their votes.
     */
    record CampaignStarted(long term, long lastIndex, long lastTerm, List<String> voters, boolean transfer)
            implements ToElection {
        public CampaignStarted { voters = List.copyOf(voters); }
        public Kind kind() { return Kind.CAMPAIGN_STARTED; }
    }

    /** This node granted its vote in {@code term} (Raft paper §5.2: reset the election timer). */
    record VoteCast(long term, String candidate) implements ToElection {
        public Kind kind() { return Kind.VOTE_CAST; }
    }

    /**
     * This candidate refused {@code candidate} only because it had voted for itself in
     * {@code term}, though {@code candidate}'s log is more up-to-date: back off (reset the election
     * timer) so that candidate's next campaign comes first. Without PreVote, a node that cannot win
     * (a short log, a stale configuration) would otherwise keep raising the term ahead of the one
     * that can, and the cluster could go a long time without a leader.
     */
    record Yield(long term, String candidate) implements ToElection {
        public Kind kind() { return Kind.YIELD; }
    }
}
