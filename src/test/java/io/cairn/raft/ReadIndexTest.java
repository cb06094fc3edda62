package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Linearizable reads: dissertation §6.4 (ReadIndex) and §6.4.1 (leases). */
class ReadIndexTest {
    @Test
    void dissertation_6_4_aLeaderReadIsConfirmedByAHeartbeatRoundAtTheCommitIndexOfItsStart() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        long commit = leader.rep.commitIndex();
        leader.rep.readIndex(1);
        h.process(leader);
        assertThat(leader.reads).isEmpty();
        h.deliver();
        assertThat(leader.reads).containsExactly(new ReadResult.Confirmed(1, commit));
    }

    @Test
    void dissertation_6_4_readsWaitingTogetherShareOneHeartbeatRound() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        h.sent.clear();
        for (long id = 1; id <= 10; id++) leader.rep.readIndex(id);
        h.process(leader);
        h.deliver();
        assertThat(leader.reads).hasSize(10).allMatch(r -> r instanceof ReadResult.Confirmed);
        assertThat(h.count(m -> m instanceof Message.Heartbeat)).isEqualTo(2);
    }

    @Test
    void dissertation_6_4_aFollowerReadIsServedThroughTheLeadersReadIndex() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        leader.rep.propose(new byte[] {1});
        h.process(leader);
        h.run(2);
        RaftHarness.Node follower = h.nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
        follower.rep.readIndex(42);
        h.process(follower);
        h.deliver();
        assertThat(follower.reads).containsExactly(new ReadResult.Confirmed(42, leader.rep.commitIndex()));
        assertThat(h.count(m -> m instanceof Message.ReadIndexRequest)).isEqualTo(1);
    }

    @Test
    void dissertation_6_4_aCutOffLeaderConfirmsNoReadAndFailsThemWhenItStepsDown() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        h.isolate(leader.id);
        leader.rep.readIndex(7);
        h.process(leader);
        h.run(25);
        assertThat(leader.reads).containsExactly(new ReadResult.Failed(7, ReadResult.Reason.LEADERSHIP_LOST));
    }

    @Test
    void dissertation_6_4_aNewLeaderServesReadsOnlyAfterCommittingAnEntryOfItsTerm() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 2));
        Direct.elect(r);
        r.readIndex(5);
        List<Ready> readies = Direct.drain(r);
        assertThat(Direct.messages(readies, Message.Heartbeat.class)).isEmpty();
        r.step(new Message.AppendResponse("n2", "n1", 3, true, 3, 0, 0));
        readies = Direct.drain(r);
        List<Message.Heartbeat> round = Direct.messages(readies, Message.Heartbeat.class);
        assertThat(round).hasSize(2);
        r.step(new Message.HeartbeatResponse("n2", "n1", 3, round.get(0).readSeq(), round.get(0).sentTick()));
        readies = Direct.drain(r);
        assertThat(readies.stream().flatMap(x -> x.readResults().stream()))
                .containsExactly(new ReadResult.Confirmed(5, 3));
    }

    @Test
    void dissertation_6_4_aFollowerWithoutALeaderFailsTheReadAtOnce() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        r.readIndex(3);
        assertThat(Direct.drain(r).stream().flatMap(x -> x.readResults().stream()))
                .containsExactly(new ReadResult.Failed(3, ReadResult.Reason.NOT_LEADER));
    }

    @Test
    void dissertation_6_4_aForwardedReadTimesOutIfTheLeaderNeverAnswers() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        RaftHarness.Node follower = h.nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
        h.drop = m -> m instanceof Message.ReadIndexRequest;
        follower.rep.readIndex(9);
        h.process(follower);
        h.run(10);
        assertThat(follower.reads).containsExactly(new ReadResult.Failed(9, ReadResult.Reason.TIMEOUT));
    }

    @Test
    void dissertation_6_4_1_aLeaseIsValidWhileAQuorumAckedAHeartbeatRecently() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(3);
        assertThat(leader.rep.leaseReadIndex()).hasValue(leader.rep.commitIndex());
        h.isolate(leader.id);
        // Valid for at most electionTicks - leaseMarginTicks ticks after the last acknowledged heartbeat.
        int valid = 0;
        while (leader.rep.leaseReadIndex().isPresent()) {
            h.run(1);
            valid++;
        }
        assertThat(valid).isBetween(6, 8);
        assertThat(leader.rep.role()).isEqualTo(Role.LEADER);
    }

    @Test
    void dissertation_6_4_1_noLeaseWithoutCheckQuorum() {
        RaftHarness h = new RaftHarness(1);
        Membership m = RaftHarness.voters("n1", "n2", "n3");
        for (String id : List.of("n1", "n2", "n3")) {
            h.add(RaftHarness.config(id).withPreVoteAndCheckQuorum(true, false), DurableState.bootstrap(m));
        }
        RaftHarness.Node leader = h.electLeader(100);
        h.run(3);
        assertThat(leader.rep.leaseReadIndex()).isEmpty();
    }

    @Test
    void dissertation_6_4_1_noLeaseOnceALeadershipTransferWasAttemptedInTheTerm() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(3);
        h.drop = m -> m instanceof Message.TimeoutNow;
        leader.rep.transferLeadership(h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow());
        h.run(15);
        assertThat(leader.rep.role()).isEqualTo(Role.LEADER);
        assertThat(leader.rep.leaseReadIndex()).isEmpty();
    }
}
