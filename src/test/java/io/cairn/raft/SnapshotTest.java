package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.raft.Message.InstallSnapshot;
import io.cairn.raft.Message.InstallSnapshotResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Log compaction and InstallSnapshot: Raft paper §7 (dissertation chapter 5). */
class SnapshotTest {
    private static byte[] stateBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31);
        return b;
    }

    @Test
    void paper_7_compactionDropsTheLogPrefixTheSnapshotCovers() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        for (int i = 0; i < 10; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(3);
        long applied = leader.appliedIndex;
        h.snapshotAndCompact(leader.id, stateBytes(40));
        Status s = leader.status();
        assertThat(s.snapshotIndex()).isEqualTo(applied);
        assertThat(leader.rep.termAt(applied - 1)).isEqualTo(-1);
        assertThat(leader.rep.snapshotMeta().membership()).isEqualTo(Direct.THREE);
        // Proposals keep committing after compaction.
        leader.rep.propose(new byte[] {99});
        h.process(leader);
        h.run(3);
        assertThat(h.nodes.values()).allMatch(n -> n.appliedData().size() == 11);
    }

    @Test
    void paper_7_aFollowerWhoseNextEntryIsCompactedReceivesTheSnapshotInBoundedChunks() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        String lagging = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.isolate(lagging);
        for (int i = 0; i < 20; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(3);
        byte[] state = stateBytes(200);
        h.snapshotAndCompact(leader.id, state);
        for (int i = 20; i < 25; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(2);
        h.heal();
        h.sent.clear();
        h.run(40);
        List<InstallSnapshot> chunks = h.sent.stream().filter(m -> m instanceof InstallSnapshot)
                .map(InstallSnapshot.class::cast).toList();
        assertThat(chunks).hasSizeGreaterThanOrEqualTo(200 / 16);
        assertThat(chunks).allMatch(c -> c.data().length <= 16);
        assertThat(chunks.get(chunks.size() - 1).last()).isTrue();
        RaftHarness.Node f = h.node(lagging);
        assertThat(f.snapshot).isEqualTo(leader.snapshot);
        assertThat(f.snapshotData).isEqualTo(state);
        assertThat(f.rep.lastIndex()).isEqualTo(leader.rep.lastIndex());
        assertThat(f.appliedIndex).isEqualTo(leader.appliedIndex);
        // After the snapshot the follower applies only the entries that follow it.
        assertThat(f.appliedData()).hasSize(5);
    }

    @Test
    void paper_7_aSnapshotTransferSurvivesLostChunks() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        String lagging = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.isolate(lagging);
        for (int i = 0; i < 10; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(3);
        h.snapshotAndCompact(leader.id, stateBytes(100));
        int[] n = {0};
        h.drop = m -> m instanceof InstallSnapshot && n[0]++ % 3 == 1;
        h.run(100);
        assertThat(h.node(lagging).snapshotData).isEqualTo(stateBytes(100));
        assertThat(h.node(lagging).rep.lastIndex()).isEqualTo(leader.rep.lastIndex());
    }

    @Test
    void paper_7_aFollowerThatAlreadyHoldsTheSnapshotIndexKeepsItsLogAndIgnoresTheSnapshot() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2, 2));
        r.step(new Message.Heartbeat("n2", "n1", 2, 3, 1, 1));
        Direct.drain(r);
        SnapshotMeta meta = new SnapshotMeta(2, 1, Direct.THREE);
        r.step(new InstallSnapshot("n2", "n1", 2, meta, 0, new byte[] {1, 2}, true));
        List<Ready> readies = Direct.drain(r);
        assertThat(readies).allMatch(x -> x.snapshotToInstall() == null);
        assertThat(Direct.messages(readies, InstallSnapshotResponse.class))
                .containsExactly(new InstallSnapshotResponse("n1", "n2", 2, 2, 0, true));
        assertThat(r.lastIndex()).isEqualTo(4);
    }

    @Test
    void paper_7_aSnapshotMatchingAnUncommittedEntryOnlyAdvancesTheCommitIndex() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2, 2));
        Direct.drain(r);
        SnapshotMeta meta = new SnapshotMeta(3, 2, Direct.THREE);
        r.step(new InstallSnapshot("n2", "n1", 2, meta, 0, new byte[] {1}, false));
        r.step(new InstallSnapshot("n2", "n1", 2, meta, 1, new byte[] {2}, true));
        List<Ready> readies = Direct.drain(r);
        assertThat(readies).allMatch(x -> x.snapshotToInstall() == null);
        assertThat(r.commitIndex()).isEqualTo(3);
        assertThat(r.lastIndex()).isEqualTo(4);
    }

    @Test
    void paper_7_aFollowerWithAConflictingLogDiscardsItAndRestoresTheSnapshot() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2, 2));
        Direct.drain(r);
        SnapshotMeta meta = new SnapshotMeta(6, 3, Direct.THREE);
        r.step(new InstallSnapshot("n2", "n1", 3, meta, 0, new byte[] {1, 2}, false));
        Ready first = r.ready();
        assertThat(first.snapshotChunks()).hasSize(1);
        assertThat(first.snapshotToInstall()).isNull();
        r.advance(first);
        r.step(new InstallSnapshot("n2", "n1", 3, meta, 2, new byte[] {3}, true));
        Ready second = r.ready();
        assertThat(second.snapshotChunks()).extracting(Ready.SnapshotChunk::offset).containsExactly(2L);
        assertThat(second.snapshotToInstall()).isEqualTo(meta);
        assertThat(second.hardState().commit()).isEqualTo(6);
        assertThat(second.messages()).contains(new InstallSnapshotResponse("n1", "n2", 3, 6, 0, true));
        r.advance(second);
        assertThat(r.lastIndex()).isEqualTo(6);
        assertThat(r.status().appliedIndex()).isEqualTo(6);
    }

    @Test
    void paper_7_aChunkOutOfOrderIsRefusedWithTheOffsetExpected() {
        Replication r = Direct.node("n1", 2, Direct.entries(1));
        Direct.drain(r);
        SnapshotMeta meta = new SnapshotMeta(6, 3, Direct.THREE);
        r.step(new InstallSnapshot("n2", "n1", 3, meta, 5, new byte[] {1}, false));
        r.step(new InstallSnapshot("n2", "n1", 3, meta, 0, new byte[] {1, 2}, false));
        r.step(new InstallSnapshot("n2", "n1", 3, meta, 3, new byte[] {1}, false));
        assertThat(Direct.messages(Direct.drain(r), InstallSnapshotResponse.class)).containsExactly(
                new InstallSnapshotResponse("n1", "n2", 3, 6, 0, false),
                new InstallSnapshotResponse("n1", "n2", 3, 6, 2, false),
                new InstallSnapshotResponse("n1", "n2", 3, 6, 2, false));
    }

    @Test
    void paper_7_theLeaderReadsNoFilesItAsksTheApplicationForChunks() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 1));
        Direct.elect(r);
        r.step(new Message.AppendResponse("n2", "n1", 3, true, 4, 0, 0));
        Direct.drain(r);
        assertThat(r.compact(r.snapshotMetaAt(4).orElseThrow())).isTrue();
        // n3 probes from the start: its next entry is compacted.
        r.step(new Message.AppendResponse("n3", "n1", 3, false, 3, 0, 0));
        Ready ready = r.ready();
        SnapshotMeta meta = r.snapshotMeta();
        assertThat(ready.snapshotReads()).containsExactly(new Ready.SnapshotRead("n3", meta, 0, 16));
        r.advance(ready);
        r.snapshotChunkRead("n3", meta, 0, new byte[] {5, 6}, true);
        assertThat(Direct.messages(Direct.drain(r), InstallSnapshot.class)).singleElement()
                .satisfies(m -> {
                    assertThat(m.meta()).isEqualTo(meta);
                    assertThat(m.last()).isTrue();
                });
        // A stale answer (wrong offset) is ignored.
        r.snapshotChunkRead("n3", meta, 7, new byte[] {1}, true);
        assertThat(Direct.messages(Direct.drain(r), InstallSnapshot.class)).isEmpty();
    }

    @Test
    void compactionIsRefusedBeyondTheAppliedIndexOrWithAWrongMeta() {
        Replication r = Direct.node("n1", 2, Direct.entries(1, 1, 2));
        Direct.drain(r);
        assertThatThrownBy(() -> r.compact(new SnapshotMeta(2, 1, Direct.THREE)))
                .isInstanceOf(IllegalArgumentException.class);
        r.step(new Message.Heartbeat("n2", "n1", 2, 3, 1, 1));
        Direct.drain(r);
        assertThatThrownBy(() -> r.compact(new SnapshotMeta(2, 2, Direct.THREE)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(r.compact(new SnapshotMeta(2, 1, Direct.THREE))).isTrue();
        assertThat(r.compact(new SnapshotMeta(1, 1, Direct.THREE))).isFalse();
    }

    @Test
    void paper_7_aNodeRestartsFromItsSnapshotAndTheEntriesAfterIt() {
        RaftHarness h = RaftHarness.cluster(3);
        RaftHarness.Node leader = h.electLeader(100);
        for (int i = 0; i < 10; i++) leader.rep.propose(new byte[] {(byte) i});
        h.process(leader);
        h.run(3);
        String other = h.nodes.keySet().stream().filter(id -> !id.equals(leader.id)).findFirst().orElseThrow();
        h.snapshotAndCompact(other, stateBytes(8));
        leader.rep.propose(new byte[] {10});
        h.process(leader);
        h.run(3);
        h.crash(other);
        h.restart(other);
        h.run(3);
        RaftHarness.Node n = h.node(other);
        assertThat(n.rep.status().snapshotIndex()).isEqualTo(n.snapshot.index());
        assertThat(n.appliedIndex).isEqualTo(leader.appliedIndex);
        assertThat(n.appliedData()).hasSize(1);
    }
}
