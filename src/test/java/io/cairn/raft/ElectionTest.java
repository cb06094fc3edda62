package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.raft.Message.VoteRequest;
import io.cairn.raft.Message.VoteResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Leader election: Raft paper §5.2 and §5.4.1, dissertation §3.10, §4.2.3, §6.2, §9.6. */
class ElectionTest {
    @Test
    void paper_5_2_aClusterElectsExactlyOneLeaderWhichEveryoneFollows() {
        RaftHarness h = RaftHarness.cluster(5);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(3);
        for (RaftHarness.Node n : h.nodes.values()) {
            assertThat(n.rep.term()).isEqualTo(leader.rep.term());
            assertThat(n.rep.leaderId()).isEqualTo(leader.id);
            if (n != leader) assertThat(n.rep.role()).isEqualTo(Role.FOLLOWER);
        }
    }

    @Test
    void paper_5_2_electionTimeoutsAreRandomizedWithinOneToTwoElectionTimeouts() {
        Set<Integer> seen = new HashSet<>();
        for (long seed = 0; seed < 50; seed++) {
            Election e = new Election(RaftHarness.config("n1"), new SplittableRandom(seed));
            e.receive(new ToElection.View(1, Role.FOLLOWER, null, 0, 0, List.of("n1", "n2", "n3"), true));
            int ticks = 0;
            while (!e.hasOutput()) {
                e.tick();
                ticks++;
            }
            assertThat(ticks).isBetween(10, 19);
            assertThat(e.drain().messages()).allMatch(m -> m instanceof Message.PreVoteRequest);
            seen.add(ticks);
        }
        assertThat(seen.size()).isGreaterThan(5);
    }

    @Test
    void paper_5_2_electionTimerResetsOnLeaderContactSoFollowersDoNotCampaign() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        long term = leader.rep.term();
        h.run(200);
        assertThat(h.leader()).isSameAs(leader);
        assertThat(leader.rep.term()).isEqualTo(term);
    }

    @Test
    void dissertation_9_6_preVoteKeepsAPartitionedNodeFromRaisingItsTermAndDisruptingOnReturn() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        long term = leader.rep.term();
        String follower = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.isolate(follower);
        h.run(200);
        assertThat(h.node(follower).rep.term()).isEqualTo(term);
        assertThat(h.count(m -> m.from().equals(follower) && m instanceof Message.PreVoteRequest)).isPositive();
        assertThat(h.count(m -> m.from().equals(follower) && m instanceof VoteRequest)).isZero();
        h.heal();
        h.run(50);
        assertThat(h.leader()).isSameAs(leader);
        assertThat(leader.rep.term()).isEqualTo(term);
        assertThat(h.node(follower).rep.leaderId()).isEqualTo(leader.id);
    }

    @Test
    void dissertation_9_6_withoutPreVoteAndCheckQuorumARejoiningNodeDeposesTheLeader() {
        RaftHarness h = new RaftHarness(1);
        Membership m = RaftHarness.voters("n1", "n2", "n3");
        for (String id : List.of("n1", "n2", "n3")) {
            h.add(RaftHarness.config(id).withPreVoteAndCheckQuorum(false, false), DurableState.bootstrap(m));
        }
        RaftHarness.Node leader = h.electLeader(100);
        long term = leader.rep.term();
        String follower = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.isolate(follower);
        h.run(100);
        assertThat(h.node(follower).rep.term()).isGreaterThan(term + 2);
        h.heal();
        h.run(3);
        assertThat(leader.rep.term()).isGreaterThan(term);
        assertThat(leader.rep.role()).isNotEqualTo(Role.LEADER);
    }

    @Test
    void dissertation_6_2_checkQuorumMakesACutOffLeaderStepDownWithinTwoElectionTimeouts() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.isolate(leader.id);
        h.run(20);
        assertThat(leader.rep.role()).isEqualTo(Role.FOLLOWER);
        h.run(30);
        RaftHarness.Node next = h.leader();
        assertThat(next).isNotNull().isNotSameAs(leader);
    }

    @Test
    void paper_5_4_1_voteIsGrantedOnlyToACandidateWhoseLogIsAtLeastAsUpToDate() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2));
        Direct.pastLease(r);
        r.step(new VoteRequest("n2", "n1", 3, 5, 1, false));
        r.step(new VoteRequest("n3", "n1", 3, 2, 2, false));
        assertThat(Direct.messages(Direct.drain(r), VoteResponse.class)).extracting(VoteResponse::granted)
                .containsExactly(false, false);
        r.step(new VoteRequest("n3", "n1", 3, 3, 2, false));
        assertThat(Direct.messages(Direct.drain(r), VoteResponse.class)).extracting(VoteResponse::granted)
                .containsExactly(true);
    }

    @Test
    void paper_5_2_atMostOneVotePerTerm() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.pastLease(r);
        r.step(new VoteRequest("n2", "n1", 3, 1, 1, false));
        r.step(new VoteRequest("n3", "n1", 3, 1, 1, false));
        r.step(new VoteRequest("n2", "n1", 3, 1, 1, false));
        assertThat(Direct.messages(Direct.drain(r), VoteResponse.class)).extracting(VoteResponse::granted)
                .containsExactly(true, false, true);
    }

    @Test
    void paper_figure2_theVoteIsPersistedInTheReadyThatCarriesTheGrant() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.pastLease(r);
        r.step(new VoteRequest("n2", "n1", 3, 1, 1, false));
        Ready ready = r.ready();
        assertThat(ready.messages()).contains(new VoteResponse("n1", "n2", 3, true));
        assertThat(ready.hardState()).isEqualTo(new HardState(3, "n2", 0));
        assertThat(ready.toElection()).contains(new ToElection.VoteCast(3, "n2"));
    }

    @Test
    void paper_figure2_aRestartedNodeRemembersItsVote() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.pastLease(r);
        r.step(new VoteRequest("n2", "n1", 3, 1, 1, false));
        HardState persisted = Direct.drain(r).get(0).hardState();
        Replication restarted = new Replication(RaftHarness.config("n1"),
                new DurableState(persisted, new SnapshotMeta(0, 0, Direct.THREE), Direct.entries(1), 0));
        Direct.pastLease(restarted);
        restarted.step(new VoteRequest("n3", "n1", 3, 1, 1, false));
        assertThat(Direct.messages(Direct.drain(restarted), VoteResponse.class)).extracting(VoteResponse::granted)
                .containsExactly(false);
    }

    @Test
    void dissertation_4_2_3_aFollowerThatHearsFromALeaderIgnoresVotesExceptForATransfer() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.pastLease(r);
        r.step(new Message.Heartbeat("n2", "n1", 2, 0, 1, 1));
        Direct.drain(r);
        r.step(new VoteRequest("n3", "n1", 3, 5, 2, false));
        assertThat(Direct.messages(Direct.drain(r))).isEmpty();
        assertThat(r.term()).isEqualTo(2);
        r.step(new VoteRequest("n3", "n1", 3, 5, 2, true));
        assertThat(Direct.messages(Direct.drain(r), VoteResponse.class)).extracting(VoteResponse::granted)
                .containsExactly(true);
    }

    @Test
    void dissertation_4_2_3_aRestartedNodeVotesForNobodyDuringOneElectionTimeout() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        r.step(new VoteRequest("n2", "n1", 3, 1, 1, false));
        assertThat(Direct.messages(Direct.drain(r))).isEmpty();
        r.receive(new ToReplication.StartCampaign(2, false));
        assertThat(r.role()).isEqualTo(Role.FOLLOWER);
    }

    @Test
    void paper_5_2_aCandidateRefusingABetterCandidateOnlyForItsSelfVoteBacksOff() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.pastLease(r);
        r.receive(new ToReplication.StartCampaign(2, false));
        Direct.drain(r);
        r.step(new VoteRequest("n2", "n1", 3, 5, 2, false));
        r.step(new VoteRequest("n3", "n1", 3, 1, 1, false));
        List<Ready> readies = Direct.drain(r);
        assertThat(Direct.messages(readies, VoteResponse.class)).extracting(VoteResponse::granted)
                .containsExactly(false, false);
        assertThat(readies.stream().flatMap(x -> x.toElection().stream()).filter(x -> x instanceof ToElection.Yield))
                .containsExactly(new ToElection.Yield(3, "n2"));

        Election e = new Election(RaftHarness.config("n1"), new SplittableRandom(7));
        e.receive(new ToElection.View(3, Role.CANDIDATE, null, 1, 1, List.of("n1", "n2", "n3"), true));
        for (int i = 0; i < 9; i++) e.tick();
        e.receive(new ToElection.Yield(3, "n2"));
        for (int i = 0; i < 9; i++) e.tick();
        assertThat(e.hasOutput()).isFalse();
    }

    @Test
    void wonTermIsAcceptedOnlyWhileStillCandidateInThatTerm() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.pastLease(r);
        r.receive(new ToReplication.StartCampaign(2, false));
        assertThat(r.role()).isEqualTo(Role.CANDIDATE);
        assertThat(r.term()).isEqualTo(3);
        r.step(new Message.Heartbeat("n2", "n1", 3, 0, 1, 1));
        r.receive(new ToReplication.WonTerm(3));
        assertThat(r.role()).isEqualTo(Role.FOLLOWER);
        r.receive(new ToReplication.StartCampaign(2, false));
        assertThat(r.term()).isEqualTo(3);
    }

    @Test
    void dissertation_3_10_leadershipTransferMakesTheTargetLeaderOfTheNextTerm() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        long term = leader.rep.term();
        String target = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        assertThat(leader.rep.transferLeadership(target)).isTrue();
        assertThat(leader.rep.propose(new byte[] {1}))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.TRANSFERRING));
        h.process(leader);
        h.run(2);
        assertThat(h.leader().id).isEqualTo(target);
        assertThat(h.leader().rep.term()).isEqualTo(term + 1);
        assertThat(h.count(m -> m instanceof Message.TimeoutNow)).isEqualTo(1);
    }

    @Test
    void dissertation_3_10_aLaggingTransferTargetIsCaughtUpBeforeTimeoutNow() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        String target = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.drop = m -> m.to().equals(target) && m instanceof Message.AppendEntries;
        for (int i = 0; i < 5; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(2);
        assertThat(h.node(target).rep.lastIndex()).isLessThan(leader.rep.lastIndex());
        h.heal();
        assertThat(leader.rep.transferLeadership(target)).isTrue();
        h.process(leader);
        h.run(3);
        assertThat(h.leader().id).isEqualTo(target);
        assertThat(h.leader().appliedData()).hasSize(5);
    }

    @Test
    void dissertation_3_10_aTransferThatDoesNotHappenIsAbandonedAfterAnElectionTimeout() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        String target = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.drop = m -> m instanceof Message.TimeoutNow;
        assertThat(leader.rep.transferLeadership(target)).isTrue();
        h.run(11);
        assertThat(h.leader()).isSameAs(leader);
        assertThat(leader.rep.propose(new byte[] {1})).isInstanceOf(ProposeResult.Accepted.class);
    }
}
