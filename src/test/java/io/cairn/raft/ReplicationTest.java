package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.cairn.raft.Message.AppendEntries;
import io.cairn.raft.Message.AppendResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Log replication: Raft paper §5.3, §5.4.2, §8; flow control after etcd-io/raft. */
class ReplicationTest {
    @Test
    void paper_5_3_proposalsAreReplicatedCommittedAndAppliedInOrderEverywhere() {
        RaftHarness h = RaftHarness.cluster(5);
        RaftHarness.Node leader = h.electLeader(100);
        for (int i = 0; i < 20; i++) {
            assertThat(leader.rep.propose(new byte[] {(byte) i})).isInstanceOf(ProposeResult.Accepted.class);
            if (i % 3 == 0) h.process(leader);
        }
        h.process(leader);
        h.run(5);
        for (RaftHarness.Node n : h.nodes.values()) {
            assertThat(n.appliedData()).hasSize(20);
            for (int i = 0; i < 20; i++) assertThat(n.appliedData().get(i)).containsExactly((byte) i);
        }
    }

    @Test
    void paper_5_3_aFollowerRejectsProposalsWithTheLeaderAsHint() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        RaftHarness.Node follower = h.nodes.values().stream().filter(n -> n != leader).findFirst().orElseThrow();
        assertThat(follower.rep.propose(new byte[] {1})).isEqualTo(new ProposeResult.NotLeader(leader.id));
    }

    @Test
    void paper_8_aNewLeaderStartsItsTermWithANoop() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 2));
        List<Ready> readies = Direct.elect(r);
        List<Entry> appended = readies.stream().flatMap(x -> x.entries().stream()).toList();
        assertThat(appended).hasSize(1);
        assertThat(appended.get(0).type()).isEqualTo(EntryType.NOOP);
        assertThat(appended.get(0).term()).isEqualTo(3);
        assertThat(appended.get(0).index()).isEqualTo(3);
    }

    @Test
    void paper_5_4_2_aLeaderCommitsByCountingOnlyEntriesOfItsOwnTerm() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 2));
        Direct.elect(r);
        assertThat(r.term()).isEqualTo(3);
        // Entry 2 (term 2) is now on a majority (n1, n2) but must not be committed by counting.
        r.step(new AppendResponse("n2", "n1", 3, true, 2, 0, 0));
        Direct.drain(r);
        assertThat(r.commitIndex()).isZero();
        // The no-op of term 3 on a majority commits it, and everything before it.
        r.step(new AppendResponse("n2", "n1", 3, true, 3, 0, 0));
        List<Ready> readies = Direct.drain(r);
        assertThat(r.commitIndex()).isEqualTo(3);
        assertThat(readies.stream().flatMap(x -> x.committedEntries().stream()).map(Entry::index))
                .containsExactly(1L, 2L, 3L);
    }

    @Test
    void paper_5_3_theLeadersOwnCopyCountsOnlyOnceItIsPersisted() {
        RaftHarness h = new RaftHarness(3);
        RaftHarness.Node n = h.add(RaftHarness.config("n1"), DurableState.bootstrap(RaftHarness.voters("n1")));
        h.electLeader(50);
        n.rep.propose(new byte[] {7});
        Ready first = n.rep.ready();
        assertThat(first.entries()).extracting(Entry::index).containsExactly(2L);
        assertThat(first.committedEntries()).isEmpty();
        n.rep.advance(first);
        Ready second = n.rep.ready();
        assertThat(second.committedEntries()).extracting(Entry::index).containsExactly(2L);
        assertThat(second.hardState()).as("a commit alone costs no disk write").isNull();
    }

    @Test
    void followersHearOfACommitWithTheNextAppendOrHeartbeatNotInAMessageOfItsOwn() {
        Replication r = Direct.node("n1", 2, List.of());
        Direct.elect(r); // term 3, its no-op at index 1
        r.step(new AppendResponse("n2", "n1", 3, true, 1, 0, 0));
        r.step(new AppendResponse("n3", "n1", 3, true, 1, 0, 0));
        List<Ready> committing = Direct.drain(r);
        assertThat(r.commitIndex()).isEqualTo(1);
        assertThat(committing.stream().flatMap(x -> x.committedEntries().stream()).map(Entry::index)).containsExactly(1L);
        assertThat(Direct.messages(committing)).as("no message only to announce the commit").isEmpty();

        r.propose(new byte[] {1});
        List<AppendEntries> next = Direct.messages(Direct.drain(r), AppendEntries.class);
        assertThat(next).extracting(AppendEntries::to).containsExactlyInAnyOrder("n2", "n3");
        assertThat(next).allSatisfy(a -> {
            assertThat(a.commit()).isEqualTo(1);
            assertThat(a.entries()).extracting(Entry::index).containsExactly(2L);
        });

        r.step(new AppendResponse("n2", "n1", 3, true, 2, 0, 0));
        Direct.drain(r);
        assertThat(r.commitIndex()).isEqualTo(2);
        r.tick(); // heartbeatTicks = 1
        List<Message.Heartbeat> beats = Direct.messages(Direct.drain(r), Message.Heartbeat.class);
        assertThat(beats).extracting(Message.Heartbeat::to, Message.Heartbeat::commit)
                .as("a heartbeat tells each follower the commit index, up to what it holds")
                .containsExactlyInAnyOrder(tuple("n2", 2L), tuple("n3", 1L));
    }

    @Test
    void paper_5_3_aFollowerOverwritesAConflictingUncommittedSuffix() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2, 2));
        Direct.drain(r);
        r.step(new AppendEntries("n2", "n1", 3, 2, 1, 2,
                List.of(new Entry(3, 3, EntryType.NORMAL, new byte[] {9}))));
        Ready ready = r.ready();
        assertThat(ready.entries()).containsExactly(new Entry(3, 3, EntryType.NORMAL, ready.entries().get(0).data()));
        assertThat(r.lastIndex()).isEqualTo(3);
        assertThat(r.termAt(3)).isEqualTo(3);
        assertThat(ready.messages()).contains(new AppendResponse("n1", "n2", 3, true, 3, 0, 0));
        assertThat(ready.hardState().commit()).isEqualTo(2);
    }

    @Test
    void paper_5_3_aFollowerRejectsAnAppendWhosePreviousEntryDoesNotMatch() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2));
        Direct.drain(r);
        r.step(new AppendEntries("n2", "n1", 3, 3, 3, 0, List.of()));
        r.step(new AppendEntries("n2", "n1", 3, 7, 3, 0, List.of()));
        List<AppendResponse> responses = Direct.messages(Direct.drain(r), AppendResponse.class);
        // Hint: the last entry at or below the probed index whose term is at most the leader's.
        assertThat(responses).containsExactly(
                new AppendResponse("n1", "n2", 3, false, 3, 3, 2),
                new AppendResponse("n1", "n2", 3, false, 7, 3, 2));
        assertThat(r.lastIndex()).isEqualTo(3);
    }

    @Test
    void paper_5_3_fastBackOffSkipsAWholeConflictingTermInOneRoundTrip() {
        // n2 holds 45 uncommitted entries of term 2 that n1 and n3 never saw.
        long[] good = new long[10];
        long[] stale = new long[50];
        for (int i = 0; i < 10; i++) good[i] = i < 5 ? 1 : 3;
        for (int i = 0; i < 50; i++) stale[i] = i < 5 ? 1 : 2;
        RaftHarness h = new RaftHarness(5);
        Membership m = Direct.THREE;
        h.add(RaftHarness.config("n1"), new DurableState(new HardState(3, null, 5), new SnapshotMeta(0, 0, m), Direct.entries(good), 0));
        h.add(RaftHarness.config("n2"), new DurableState(new HardState(3, null, 5), new SnapshotMeta(0, 0, m), Direct.entries(stale), 0));
        h.add(RaftHarness.config("n3"), new DurableState(new HardState(3, null, 5), new SnapshotMeta(0, 0, m), Direct.entries(good), 0));
        RaftHarness.Node leader = h.electLeader(100);
        assertThat(leader.id).isNotEqualTo("n2");
        h.run(5);
        long rejections = h.count(x -> x instanceof AppendResponse a && a.from().equals("n2") && !a.success());
        assertThat(rejections).isEqualTo(1);
        assertThat(h.node("n2").rep.termAt(10)).isEqualTo(3);
        assertThat(h.node("n2").rep.lastIndex()).isEqualTo(leader.rep.lastIndex());
    }

    @Test
    void paper_5_3_appendEntriesAreBatchedWithinTheEntryAndByteBounds() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        String lagging = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.isolate(lagging);
        for (int i = 0; i < 30; i++) leader.rep.propose(new byte[i % 2 == 0 ? 10 : 100]);
        leader.rep.propose(new byte[400]);
        h.process(leader);
        h.run(3);
        h.heal();
        h.sent.clear();
        h.run(20);
        List<AppendEntries> appends = h.sent.stream()
                .filter(x -> x instanceof AppendEntries a && a.to().equals(lagging) && !a.entries().isEmpty())
                .map(AppendEntries.class::cast).toList();
        assertThat(appends).isNotEmpty();
        for (AppendEntries a : appends) {
            long bytes = a.entries().stream().mapToLong(Entry::sizeBytes).sum();
            assertThat(a.entries().size()).isLessThanOrEqualTo(4);
            assertThat(bytes <= 256 || a.entries().size() == 1).isTrue();
        }
        assertThat(h.node(lagging).rep.lastIndex()).isEqualTo(leader.rep.lastIndex());
    }

    @Test
    void etcd_flowControl_pipelinedAppendsPerFollowerAreBoundedByInflightMax() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        String slow = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.drop = m -> m.from().equals(slow);
        h.sent.clear();
        for (int i = 0; i < 20; i++) {
            leader.rep.propose(new byte[] {(byte) i});
            h.process(leader);
            h.deliver();
        }
        long appends = h.count(m -> m instanceof AppendEntries a && a.to().equals(slow) && !a.entries().isEmpty());
        assertThat(appends).isEqualTo(4);
        h.heal();
        h.run(10);
        assertThat(h.node(slow).rep.lastIndex()).isEqualTo(leader.rep.lastIndex());
    }

    @Test
    void paper_5_3_lostAppendsAreRecoveredThroughHeartbeats() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        h.run(2);
        h.drop = m -> m instanceof AppendEntries;
        for (int i = 0; i < 6; i++) {
            leader.rep.propose(new byte[] {(byte) i});
            h.process(leader);
            h.deliver();
        }
        h.heal();
        h.run(10);
        for (RaftHarness.Node n : h.nodes.values()) assertThat(n.appliedData()).hasSize(6);
    }

    @Test
    void figure2_persistedStateSurvivesARestartOfTheWholeCluster() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        for (int i = 0; i < 10; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(3);
        for (String id : h.nodes.keySet()) h.crash(id);
        for (String id : h.nodes.keySet()) h.restart(id);
        RaftHarness.Node next = h.electLeader(100);
        next.rep.propose(new byte[] {42});
        h.process(next);
        h.run(3);
        for (RaftHarness.Node n : h.nodes.values()) {
            List<byte[]> data = n.appliedData();
            assertThat(data).hasSize(11);
            assertThat(data.get(10)).containsExactly(42);
        }
    }

    @Test
    void aRestartedNodeResumesApplyingAfterTheStateMachinesAppliedIndex() {
        Replication r = new Replication(RaftHarness.config("n1"),
                new DurableState(new HardState(2, null, 3), new SnapshotMeta(0, 0, Direct.THREE), Direct.entries(1, 1, 2, 2), 2));
        Ready ready = r.ready();
        assertThat(ready.committedEntries()).extracting(Entry::index).containsExactly(3L);
        assertThat(ready.hardState()).isNull();
        // The applied index counts as committed even if the persisted commit lags behind it.
        Replication ahead = new Replication(RaftHarness.config("n1"),
                new DurableState(new HardState(2, null, 1), new SnapshotMeta(0, 0, Direct.THREE), Direct.entries(1, 1, 2, 2), 3));
        assertThat(ahead.commitIndex()).isEqualTo(3);
        assertThat(ahead.ready().committedEntries()).isEmpty();
    }

    @Test
    void aReadyMustBeAdvancedBeforeTheNextOne() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Ready ready = r.ready();
        assertThat(r.hasReady()).isFalse();
        assertThatThrownBy(r::ready).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> r.advance(new Ready(null, List.of(), List.of(), null, List.of(), List.of(),
                List.of(), List.of(), List.of()))).isInstanceOf(IllegalStateException.class);
        r.advance(ready);
    }

    @Test
    void inputsArrivingWhileAReadyIsBeingPersistedWaitForTheNextReady() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1));
        Direct.drain(r);
        r.step(new AppendEntries("n2", "n1", 2, 2, 1, 0, List.of(new Entry(3, 2, EntryType.NORMAL, new byte[0]))));
        Ready first = r.ready();
        // While the first Ready is written, the leader of a newer term overwrites entry 3.
        r.step(new AppendEntries("n3", "n1", 3, 2, 1, 2, List.of(new Entry(3, 3, EntryType.NORMAL, new byte[0]))));
        r.advance(first);
        Ready second = r.ready();
        assertThat(first.entries()).extracting(Entry::term).containsExactly(2L);
        assertThat(second.entries()).extracting(Entry::term).containsExactly(3L);
        assertThat(second.entries().get(0).index()).isEqualTo(3);
        assertThat(second.committedEntries()).extracting(Entry::index).containsExactly(1L, 2L);
    }

    @Test
    void anAppendThatContradictsACommittedEntryIsABrokenInvariant() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1));
        r.step(new Message.Heartbeat("n2", "n1", 2, 2, 1, 1));
        Direct.drain(r);
        assertThat(r.commitIndex()).isEqualTo(2);
        List<Entry> bad = List.of(new Entry(2, 2, EntryType.NORMAL, new byte[0]), new Entry(3, 2, EntryType.NORMAL, new byte[0]));
        assertThatThrownBy(() -> r.step(new AppendEntries("n2", "n1", 2, 1, 1, 2, bad)))
                .isInstanceOf(IllegalStateException.class);
    }

    /**
     * Outside Raft's model (a follower's disk lost acknowledged entries, e.g. a wiped data
     * directory): the follower says so in its heartbeat answer and the leader probes it again from
     * its real last index instead of trusting the old match index forever.
     */
    @Test
    void aFollowerThatLostItsLogIsProbedAgainFromWhatItHas() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 2));
        Direct.elect(r);
        Direct.drain(r);
        r.step(new Message.AppendResponse("n2", "n1", 3, true, 3, 0, 0));
        Direct.drain(r);
        assertThat(r.status().matchIndex().get("n2")).isEqualTo(3);
        r.step(new Message.HeartbeatResponse("n2", "n1", 3, 0, 0, 0));
        List<Message.AppendEntries> sent = Direct.messages(Direct.drain(r), Message.AppendEntries.class);
        assertThat(sent).anySatisfy(a -> {
            assertThat(a.to()).isEqualTo("n2");
            assertThat(a.prevIndex()).isEqualTo(0);
        });
        assertThat(r.status().matchIndex().get("n2")).isZero();
        assertThat(r.commitIndex()).isEqualTo(3);
    }
}
