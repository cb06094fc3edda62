package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Membership changes: dissertation §4.1 (single-server), §4.2.1 (learners), §4.2.2 (leader removal). */
class MembershipChangeTest {
    private static Member learner(String id) {
        return new Member(id, id + ":7000", id + ":8080", false);
    }

    private static RaftHarness.Node addJoiner(RaftHarness h, String id) {
        return h.add(RaftHarness.config(id), DurableState.joining());
    }

    @Test
    void dissertation_4_2_1_aLearnerReceivesTheLogWithoutVotingThenIsPromotedOnceCaughtUp() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        for (int i = 0; i < 20; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(3);
        assertThat(leader.rep.proposeMembership(new MembershipChange.AddLearner(learner("n4"))))
                .isInstanceOf(ProposeResult.Accepted.class);
        h.process(leader);
        // While n4 is unreachable it is a learner: the cluster commits without it.
        h.drop = m -> m.to().equals("n4");
        RaftHarness.Node n4 = addJoiner(h, "n4");
        h.run(5);
        Membership m = leader.status().membership();
        assertThat(m.member("n4")).hasValueSatisfying(x -> assertThat(x.voter()).isFalse());
        assertThat(leader.status().commitIndex()).isEqualTo(leader.status().lastIndex());
        assertThat(n4.status().role()).isEqualTo(Role.LEARNER);
        h.heal();
        h.run(20);
        assertThat(leader.status().membership().isVoter("n4")).isTrue();
        assertThat(n4.appliedData()).hasSize(20);
        assertThat(n4.status().membership().isVoter("n4")).isTrue();
        assertThat(n4.status().role()).isEqualTo(Role.FOLLOWER);
        assertThat(h.count(x -> x.from().equals("n4") && x instanceof Message.PreVoteRequest)).isZero();
    }

    @Test
    void dissertation_4_1_onlyOneMembershipChangeAtATime() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        assertThat(leader.rep.proposeMembership(new MembershipChange.AddLearner(learner("n4"))))
                .isInstanceOf(ProposeResult.Accepted.class);
        assertThat(leader.rep.proposeMembership(new MembershipChange.AddLearner(learner("n5"))))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.CHANGE_PENDING));
        h.process(leader);
        h.run(2);
        assertThat(leader.rep.proposeMembership(new MembershipChange.AddLearner(learner("n5"))))
                .isInstanceOf(ProposeResult.Accepted.class);
    }

    @Test
    void dissertation_4_1_aNewLeaderChangesMembershipOnlyAfterCommittingInItsTerm() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 2));
        Direct.elect(r);
        assertThat(r.proposeMembership(new MembershipChange.Remove("n3")))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.CHANGE_PENDING));
        r.step(new Message.AppendResponse("n2", "n1", 3, true, 3, 0, 0));
        Direct.drain(r);
        assertThat(r.proposeMembership(new MembershipChange.Remove("n3"))).isInstanceOf(ProposeResult.Accepted.class);
    }

    @Test
    void dissertation_4_1_aConfigurationTakesEffectWhenAppendedNotWhenCommitted() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.elect(r);
        r.step(new Message.AppendResponse("n2", "n1", 3, true, 2, 0, 0));
        Direct.drain(r);
        r.proposeMembership(new MembershipChange.Remove("n3"));
        assertThat(r.status().membership().voterIds()).containsExactly("n1", "n2");
        assertThat(r.status().commitIndex()).isEqualTo(2);
        // With voters {n1, n2} the change itself needs n2: n3 no longer counts.
        r.step(new Message.AppendResponse("n3", "n1", 3, true, 3, 0, 0));
        Direct.drain(r);
        assertThat(r.status().commitIndex()).isEqualTo(2);
        r.step(new Message.AppendResponse("n2", "n1", 3, true, 3, 0, 0));
        Direct.drain(r);
        assertThat(r.status().commitIndex()).isEqualTo(3);
    }

    @Test
    void dissertation_4_2_2_aRemovedLeaderStepsDownOnceTheChangeCommitsAndTheRestElectANewOne() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        assertThat(leader.rep.proposeMembership(new MembershipChange.Remove(leader.id)))
                .isInstanceOf(ProposeResult.Accepted.class);
        h.process(leader);
        h.run(3);
        assertThat(leader.rep.role()).isEqualTo(Role.FOLLOWER);
        assertThat(leader.status().role()).isEqualTo(Role.LEARNER);
        h.run(30);
        RaftHarness.Node next = h.leader();
        assertThat(next).isNotNull().isNotSameAs(leader);
        assertThat(next.status().membership().voterIds()).hasSize(2).doesNotContain(leader.id);
        next.rep.propose(new byte[] {1});
        h.process(next);
        h.run(3);
        assertThat(next.appliedData()).hasSize(1);
        // The removed node stays quiet: it is no voter, so it never campaigns.
        long before = h.count(x -> x.from().equals(leader.id));
        h.run(50);
        assertThat(h.count(x -> x.from().equals(leader.id))).isEqualTo(before);
    }

    @Test
    void dissertation_4_1_removingAFollowerShrinksTheQuorum() {
        RaftHarness h = RaftHarness.cluster(5);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        List<String> others = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).toList();
        leader.rep.proposeMembership(new MembershipChange.Remove(others.get(0)));
        h.process(leader);
        h.run(3);
        assertThat(leader.status().membership().voterIds()).hasSize(4);
        // Two of the remaining four down: still a quorum (3 of 4) with the leader.
        h.crash(others.get(0));
        h.crash(others.get(1));
        leader.rep.propose(new byte[] {1});
        h.process(leader);
        h.run(3);
        assertThat(leader.appliedData()).hasSize(1);
    }

    @Test
    void invalidChangesAreRefused() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        assertThat(leader.rep.proposeMembership(new MembershipChange.Remove("n9")))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.INVALID_CHANGE));
        assertThat(leader.rep.proposeMembership(new MembershipChange.AddLearner(learner("n2"))))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.INVALID_CHANGE));
    }
}
