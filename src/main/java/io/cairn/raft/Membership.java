package io.cairn.raft;

import java.util.List;
import java.util.Optional;

/** The configuration of the cluster: voters and non-voting learners, in a stable order. */
public record Membership(List<Member> members) {
    public static final Membership EMPTY = new Membership(List.of());

    public Membership {
        members = List.copyOf(members);
        long distinct = members.stream().map(Member::id).distinct().count();
        if (distinct != members.size()) throw new IllegalArgumentException("duplicate member id in " + members);
    }

    public Optional<Member> member(String id) {
        return members.stream().filter(m -> m.id().equals(id)).findFirst();
    }

    public List<String> voterIds() {
        return members.stream().filter(Member::voter).map(Member::id).toList();
    }

    public boolean isVoter(String id) {
        return member(id).map(Member::voter).orElse(false);
    }
}
