package io.cairn.node;

import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import io.cairn.raft.Role;
import io.cairn.raft.Status;
import java.util.Map;
import java.util.Optional;

/**
 * The node's view of itself that front ends read without asking the ReplicationVerticle: the last
 * {@link Status} it published. Updated after every Ready; read from any thread.
 */
public final class NodeState {
    private volatile Status status;

    NodeState(Status initial) {
        this.status = initial;
    }

    void publish(Status s) {
        this.status = s;
    }

    public Status status() {
        return status;
    }

    public boolean isLeader() {
        return status.role() == Role.LEADER;
    }

    /** The leader's id, if one is known. */
    public Optional<String> leaderId() {
        return Optional.ofNullable(status.leaderId());
    }

    /** The known leader as a member (addresses included), if any. */
    public Optional<Member> leader() {
        Status s = status;
        if (s.leaderId() == null) return Optional.empty();
        return s.membership().member(s.leaderId());
    }

    public Membership membership() {
        return status.membership();
    }

    public Map<String, Long> matchIndex() {
        return status.matchIndex();
    }
}
