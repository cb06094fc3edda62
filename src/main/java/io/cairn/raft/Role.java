package io.cairn.raft;

/**
 * The role of a node. {@link Replication} is only ever FOLLOWER, CANDIDATE or LEADER;
 * {@link Status#role()} reports LEARNER for a follower that is not a voter of the latest
 * configuration (a learner, a node not yet or no longer a member).
 */
public enum Role {
    FOLLOWER, CANDIDATE, LEADER, LEARNER
}
