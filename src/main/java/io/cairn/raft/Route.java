package io.cairn.raft;

/**
 * Which half of a node consumes a peer message: the transport hands {@link #ELECTION} messages to
 * {@link Election#step(Message)} and {@link #REPLICATION} messages to
 * {@link Replication#step(Message)}. Vote requests go to Replication because granting a vote needs
 * the log (the up-to-date check) and the durable vote: it is decided where appends are decided.
 */
public enum Route {
    ELECTION, REPLICATION;

    /** The consumer of {@code m}. Pure and total. */
    public static Route of(Message m) {
        return switch (m.kind()) {
            case PRE_VOTE_REQUEST, PRE_VOTE_RESPONSE, VOTE_RESPONSE, TIMEOUT_NOW -> ELECTION;
            case VOTE_REQUEST, APPEND_ENTRIES, APPEND_RESPONSE, HEARTBEAT, HEARTBEAT_RESPONSE,
                    INSTALL_SNAPSHOT, INSTALL_SNAPSHOT_RESPONSE, READ_INDEX_REQUEST,
                    READ_INDEX_RESPONSE -> REPLICATION;
        };
    }
}
