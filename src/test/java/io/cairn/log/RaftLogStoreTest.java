package io.cairn.log;

import static io.cairn.log.LogFixtures.describe;
import static io.cairn.log.LogFixtures.entry;
import static io.cairn.log.LogFixtures.range;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import io.cairn.raft.HardState;
import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import io.cairn.raft.SnapshotMeta;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class RaftLogStoreTest {
    private static final Membership THREE = new Membership(List.of(
            new Member("n1", "h:1", "h:2", true),
            new Member("n2", "h:3", "h:4", true),
            new Member("n3", "h:5", "h:6", false)));

    @TempDir
    Path dir;
    private RaftLogStore store;

    private Path file() {
        return dir.resolve("raft-log.db");
    }

    private RaftLogStore reopen() {
        if (store != null) store.close();
        store = RaftLogStore.open(file());
        return store;
    }

    @AfterEach
    void closeStore() {
        if (store != null) store.close();
    }

    @Test
    void aNewLogIsEmpty() {
        RaftLogStore.Restored r = reopen().load();
        assertThat(r.hardState()).isEqualTo(HardState.EMPTY);
        assertThat(r.snapshot()).isEqualTo(SnapshotMeta.EMPTY);
        assertThat(r.entries()).isEmpty();
        assertThat(store.firstIndex()).isEqualTo(1);
        assertThat(store.lastIndex()).isEqualTo(0);
    }

    @Test
    void everythingPersistedSurvivesReopen() {
        reopen().persist(new HardState(3, "n2", 4), range(1, 5, 2));
        store.persist(null, List.of(new Entry(6, 3, EntryType.MEMBERSHIP, new byte[] {1, 2}),
                new Entry(7, 3, EntryType.NOOP, new byte[0])));
        List<String> before = describe(store.load().entries());

        RaftLogStore.Restored r = reopen().load();
        assertThat(r.hardState()).isEqualTo(new HardState(3, "n2", 4));
        assertThat(describe(r.entries())).isEqualTo(before).hasSize(7);
        assertThat(store.lastIndex()).isEqualTo(7);
        assertThat(store.term(6)).hasValue(3);
    }

    @Test
    void hardStateAloneIsPersistedAndTermNeverGoesBack() {
        reopen().persist(new HardState(5, null, 0), List.of());
        assertThat(reopen().load().hardState()).isEqualTo(new HardState(5, null, 0));
        assertThatThrownBy(() -> store.persist(new HardState(4, "n1", 0), List.of()))
                .isInstanceOf(IllegalStateException.class);
        assertThat(store.hardState().term()).isEqualTo(5);
    }

    @Test
    void aConflictingSuffixIsReplaced() {
        reopen().persist(null, range(1, 5, 1));
        store.persist(null, range(3, 4, 2));
        assertThat(store.lastIndex()).isEqualTo(4);
        assertThat(describe(reopen().load().entries()))
                .isEqualTo(describe(List.of(entry(1, 1), entry(2, 1), entry(3, 2), entry(4, 2))));
    }

    @Test
    void gapsAndDisorderAreRefusedAndWriteNothing() {
        reopen().persist(null, range(1, 3, 1));
        assertThatThrownBy(() -> store.persist(null, range(5, 6, 1))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.persist(null, List.of(entry(4, 1), entry(6, 1))))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.persist(null, List.of(entry(4, 2), entry(5, 1))))
                .isInstanceOf(IllegalStateException.class);
        store.persist(null, range(4, 4, 1));
        assertThat(reopen().load().entries()).hasSize(4);
    }

    @Test
    void batchLimitsAreEnforced() {
        store = RaftLogStore.open(file(), new RaftLogOptions(3, 150, 1 << 20));
        assertThatThrownBy(() -> store.persist(null, range(1, 4, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.persist(null, List.of(entry(1, 1, 200))))
                .isInstanceOf(IllegalArgumentException.class);
        store.persist(null, range(1, 3, 1));
        assertThat(store.lastIndex()).isEqualTo(3);
    }

    @Test
    void loadRefusesALogLargerThanItsBound() {
        store = RaftLogStore.open(file(), new RaftLogOptions(100, 1 << 20, 1_000));
        store.persist(null, List.of(entry(1, 1, 600), entry(2, 1, 600)));
        assertThatThrownBy(store::load).isInstanceOf(LogStoreException.class).hasMessageContaining("loadBytesMax");
    }

    @Test
    void compactionDeletesThePrefixAndKeepsTheMeta() {
        reopen().persist(null, range(1, 10, 1));
        store.compact(new SnapshotMeta(6, 1, THREE));
        assertThat(store.firstIndex()).isEqualTo(7);
        assertThat(store.term(6)).hasValue(1);
        assertThat(store.term(5)).isEmpty();

        RaftLogStore.Restored r = reopen().load();
        assertThat(r.snapshot()).isEqualTo(new SnapshotMeta(6, 1, THREE));
        assertThat(describe(r.entries())).isEqualTo(describe(range(7, 10, 1)));
        assertThatThrownBy(() -> store.persist(null, range(6, 6, 1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void entriesACompactionCoversAreDeletedAFewAtATimeByLaterWritesAndSurviveACrashInBetween() throws Exception {
        int dead = RaftLogStore.TRIM_ROWS_PER_WRITE * 2 + 10;
        reopen().persist(null, range(1, dead + 5, 1));
        store.compact(new SnapshotMeta(dead, 1, THREE));
        assertThat(storedRows()).as("the compaction itself deletes nothing").isEqualTo(dead + 5);

        // a crash (reopen) with dead entries stored: they are still dead, the live suffix loads
        RaftLogStore.Restored r = reopen().load();
        assertThat(r.snapshot().index()).isEqualTo(dead);
        assertThat(describe(r.entries())).isEqualTo(describe(range(dead + 1, dead + 5, 1)));
        assertThat(store.term(dead - 1)).isEmpty();

        store.persist(null, range(dead + 6, dead + 6, 1));
        assertThat(storedRows()).isEqualTo(dead + 6 - RaftLogStore.TRIM_ROWS_PER_WRITE);
        store.persist(null, range(dead + 7, dead + 7, 1));
        store.persist(new HardState(2, null, 0), List.of());
        assertThat(storedRows()).as("only the live entries remain").isEqualTo(7);
        assertThat(describe(reopen().load().entries())).isEqualTo(describe(range(dead + 1, dead + 7, 1)));
    }

    private long storedRows() {
        return store.storedEntries();
    }

    @Test
    void compactionMustMatchTheLog() {
        reopen().persist(null, range(1, 5, 2));
        assertThatThrownBy(() -> store.compact(new SnapshotMeta(6, 2, THREE))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> store.compact(new SnapshotMeta(3, 1, THREE))).isInstanceOf(IllegalStateException.class);
        store.compact(new SnapshotMeta(5, 2, THREE));
        assertThat(store.lastIndex()).isEqualTo(5);
        assertThat(reopen().load().entries()).isEmpty();
        store.persist(null, range(6, 7, 3));
        assertThat(reopen().load().entries()).hasSize(2);
    }

    @Test
    void anInstalledSnapshotKeepsAMatchingSuffix() {
        reopen().persist(null, range(1, 10, 1));
        assertThat(store.installSnapshot(new SnapshotMeta(7, 1, THREE))).isTrue();
        RaftLogStore.Restored r = reopen().load();
        assertThat(r.snapshot().index()).isEqualTo(7);
        assertThat(describe(r.entries())).isEqualTo(describe(range(8, 10, 1)));
    }

    @Test
    void anInstalledSnapshotReplacesAConflictingLog() {
        reopen().persist(null, range(1, 10, 1));
        assertThat(store.installSnapshot(new SnapshotMeta(7, 2, THREE))).isFalse();
        assertThat(store.lastIndex()).isEqualTo(7);
        assertThat(reopen().load().entries()).isEmpty();
        assertThat(store.lastIndex()).isEqualTo(7);
        store.persist(null, range(8, 9, 2));
        assertThat(store.installSnapshot(new SnapshotMeta(20, 3, THREE))).isFalse();
        assertThat(store.firstIndex()).isEqualTo(21);
        assertThatThrownBy(() -> store.installSnapshot(new SnapshotMeta(20, 3, THREE)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void bootstrapRecordsTheFirstMembership() {
        reopen().bootstrap(THREE);
        assertThat(reopen().load().snapshot()).isEqualTo(new SnapshotMeta(0, 0, THREE));
        store.persist(null, range(1, 1, 1));
        assertThatThrownBy(() -> store.bootstrap(THREE)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rangeReadsAreBoundedByBytesButReturnAtLeastOneEntry() {
        reopen().persist(null, range(1, 10, 1));
        long entryBytes = entry(1, 1).sizeBytes();
        assertThat(store.entries(2, 11, entryBytes * 3)).extracting(Entry::index).containsExactly(2L, 3L, 4L);
        assertThat(store.entries(5, 11, 1)).extracting(Entry::index).containsExactly(5L);
        assertThat(store.entries(11, 11, 100)).isEmpty();
        assertThatThrownBy(() -> store.entries(5, 12, 100)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aSecondOpenOfTheSameFileFails() {
        reopen().persist(null, range(1, 1, 1));
        assertThatThrownBy(() -> RaftLogStore.open(file())).isInstanceOf(LogStoreException.class);
    }

    @Test
    void aFailedCommitLeavesThePreviousStateAndFailsTheStore() {
        reopen().persist(new HardState(1, "n1", 0), range(1, 5, 1));
        store.beforeCommitHook = () -> {
            throw new IllegalStateException("disk on fire");
        };
        assertThatThrownBy(() -> store.persist(new HardState(2, null, 0), range(3, 8, 2)))
                .isInstanceOf(LogStoreException.class);
        assertThat(store.lastIndex()).isEqualTo(5);
        assertThatThrownBy(store::load).isInstanceOf(LogStoreException.class).hasMessageContaining("failed");

        RaftLogStore.Restored r = reopen().load();
        assertThat(r.hardState()).isEqualTo(new HardState(1, "n1", 0));
        assertThat(describe(r.entries())).isEqualTo(describe(range(1, 5, 1)));
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void overlappingCallsFromTwoThreadsAreRefused() throws Exception {
        reopen();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        store.beforeCommitHook = () -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Thread writer = new Thread(() -> store.persist(null, range(1, 3, 1)));
        writer.start();
        inside.await();
        assertThatThrownBy(store::load).isInstanceOf(IllegalStateException.class).hasMessageContaining("two threads");
        release.countDown();
        writer.join();
        store.beforeCommitHook = null;
        assertThat(store.load().entries()).hasSize(3);
    }

    @Test
    void aTransactionThatNeverCommitsLeavesThePreviousState() throws Exception {
        reopen().persist(new HardState(1, "n1", 0), range(1, 5, 1));
        store.close();
        store = null;
        try (Connection raw = DriverManager.getConnection("jdbc:sqlite:" + file());
                Statement st = raw.createStatement()) {
            raw.setAutoCommit(false);
            st.executeUpdate("DELETE FROM entries WHERE idx >= 3");
            st.executeUpdate("INSERT INTO entries VALUES (3, 9, 0, x'00')");
            st.executeUpdate("UPDATE state SET term = 9");
            // Closed without commit: as if the process died here.
        }
        RaftLogStore.Restored r = reopen().load();
        assertThat(r.hardState().term()).isEqualTo(1);
        assertThat(describe(r.entries())).isEqualTo(describe(range(1, 5, 1)));
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aProcessKilledMidWriteLeavesEveryAcknowledgedEntry() throws Exception {
        Path err = dir.resolve("child.err");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CrashingLogWriter.class.getName(), file().toString())
                .redirectError(err.toFile())
                .start();
        long ackedIndex = 0;
        long ackedTerm = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (int acks = 0; acks < 300; acks++) {
                String line = out.readLine();
                assertThat(line).as("child stderr: %s", Files.exists(err) ? Files.readString(err) : "").isNotNull();
                String[] parts = line.split(" ");
                ackedIndex = Long.parseLong(parts[1]);
                ackedTerm = Long.parseLong(parts[2]);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }

        RaftLogStore.Restored r = reopen().load();
        List<Entry> entries = r.entries();
        assertThat(store.lastIndex()).isGreaterThanOrEqualTo(ackedIndex);
        assertThat(r.hardState().term()).isGreaterThanOrEqualTo(ackedTerm);
        assertThat(store.term(ackedIndex).orElseThrow()).isGreaterThanOrEqualTo(ackedTerm);
        List<Long> indexes = new ArrayList<>();
        for (Entry e : entries) {
            assertThat(LogFixtures.intact(e)).as("entry %d intact", e.index()).isTrue();
            indexes.add(e.index());
        }
        assertThat(indexes).first().isEqualTo(1L);
        assertThat(indexes).last().isEqualTo(store.lastIndex());
        assertThat(indexes).hasSize((int) store.lastIndex());
    }
}
