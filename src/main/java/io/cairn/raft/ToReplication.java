package io.cairn.raft;

/**
 * Records {@link Election} sends to {@link Replication} of the same node (in
 * {@link Election.Output#toReplication()}). Delivered asynchronously and possibly late; Replication
 * checks each against the current truth and ignores what is stale.
 */
public sealed interface ToReplication {
    Kind kind();

    enum Kind { START_CAMPAIGN, WON_TERM, OBSERVE_TERM }

    /**
     * "Become candidate": accepted only if the current term is still {@code currentTerm}, this node
     * is a voter and not leader, and (unless {@code transfer}) it is not within a leader's lease.
     */
    record StartCampaign(long currentTerm, boolean transfer) implements ToReplication {
        public Kind kind() { return Kind.START_CAMPAIGN; }
    }

    /** A quorum voted for this node in {@code term}: accepted only while still candidate in it. */
    record WonTerm(long term) implements ToReplication {
        public Kind kind() { return Kind.WON_TERM; }
    }

    /** A (pre)vote response revealed a higher term: step down to it. */
    record ObserveTerm(long term) implements ToReplication {
        public Kind kind() { return Kind.OBSERVE_TERM; }
    }
}
