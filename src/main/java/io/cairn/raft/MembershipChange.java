package io.cairn.raft;

import java.util.Objects;

/**
 * A single-server membership change (dissertation §4.1). Learners are promoted to voters by the
 * leader itself once caught up, so the application never proposes a promotion.
 */
public sealed interface MembershipChange {
    /** Add a non-voting member; {@code member.voter()} is ignored (it joins as a learner). */
    record AddLearner(Member member) implements MembershipChange {
        public AddLearner { Objects.requireNonNull(member, "member"); }
    }

    /** Remove a voter or learner, the leader included (it steps down once the change commits). */
    record Remove(String id) implements MembershipChange {
        public Remove { Objects.requireNonNull(id, "id"); }
    }
}
