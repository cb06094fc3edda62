package io.cairn.raft;

import java.util.Map;

/**
 * A consistent picture of one node for operators and tests. {@code matchIndex} holds the known
 * match index of every member while this node leads (its own is its persisted last index) and is
 * empty otherwise. {@code appliedIndex} is the last committed index handed out in an advanced
 * {@link Ready}.
 */
public record Status(String id, long term, Role role, String leaderId, long commitIndex, long appliedIndex,
                     long lastIndex, long snapshotIndex, Membership membership, Map<String, Long> matchIndex) {
    public Status { matchIndex = Map.copyOf(matchIndex); }
}
