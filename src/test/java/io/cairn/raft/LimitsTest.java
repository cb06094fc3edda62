package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every queue and batch of the core is bounded (TigerBeetle style); misuse fails loudly. */
class LimitsTest {
    @Test
    void proposalsLargerThanEntryBytesMaxAreRefused() {
        RaftHarness h = RaftHarness.cluster(1);
        RaftHarness.Node leader = h.electLeader(50);
        assertThat(leader.rep.propose(new byte[1025]))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.TOO_LARGE));
        assertThat(leader.rep.propose(new byte[1024])).isInstanceOf(ProposeResult.Accepted.class);
    }

    @Test
    void uncommittedBytesAreBoundedSoACutOffLeaderStopsAccepting() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        h.isolate(leader.id);
        int accepted = 0;
        while (leader.rep.propose(new byte[1000]) instanceof ProposeResult.Accepted) accepted++;
        assertThat(accepted).isBetween(1000, 1050);
        assertThat(leader.rep.propose(new byte[1000]))
                .isEqualTo(new ProposeResult.Refused(ProposeResult.Reason.BACKPRESSURE));
    }

    @Test
    void pendingReadsAreBounded() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        h.isolate(leader.id);
        for (long id = 0; id < 70; id++) leader.rep.readIndex(id);
        h.process(leader);
        assertThat(leader.reads).hasSize(6)
                .allMatch(r -> r instanceof ReadResult.Failed f && f.reason() == ReadResult.Reason.BACKPRESSURE);
    }

    @Test
    void committedEntriesAreHandedOutInBoundedBatches() {
        RaftHarness h = RaftHarness.cluster(1);
        RaftHarness.Node leader = h.electLeader(50);
        for (int i = 0; i < 200; i++) leader.rep.propose(new byte[] {1});
        h.process(leader);
        assertThat(leader.readies).allMatch(r -> r.committedEntries().size() <= 64);
        assertThat(leader.appliedData()).hasSize(200);
    }

    @Test
    void misuseIsRejected() {
        Replication r = Direct.node("n1", 1, Direct.entries(1));
        assertThatThrownBy(() -> r.step(new Message.Heartbeat("n2", "n9", 1, 0, 0, 0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> r.step(new Message.TimeoutNow("n2", "n1", 1)))
                .isInstanceOf(IllegalArgumentException.class);
        Election e = new Election(RaftHarness.config("n1"), new java.util.SplittableRandom(1));
        assertThatThrownBy(() -> e.step(new Message.Heartbeat("n2", "n1", 1, 0, 0, 0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Replication(RaftHarness.config("n1"),
                new DurableState(new HardState(1, null, 5), SnapshotMeta.EMPTY, Direct.entries(1), 0)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Replication(RaftHarness.config("n1"),
                new DurableState(HardState.EMPTY, new SnapshotMeta(3, 1, Membership.EMPTY), Direct.entries(1), 3)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Config("n1", 10, 10, 1, 1, 1, 1, true, true, 1, 1, 1, 1, 1, 1, 1, 16))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(List.of(Config.defaults("n1"))).isNotEmpty();
    }
}
