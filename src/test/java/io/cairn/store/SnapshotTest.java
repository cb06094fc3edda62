package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.Arbitrary;
import org.junit.jupiter.api.Test;

class SnapshotTest {
    /** A fixed, varied command stream: the model test's generator with a fixed seed (call inside jqwik). */
    static List<Command> stream(int n, long seed) {
        Arbitrary<Command> arb = StoreModelPropertyTest.arbCommand();
        List<Command> out = new ArrayList<>(n);
        Random rnd = new Random(seed);
        arb.generator(1000).stream(rnd).limit(n).forEach(s -> out.add(s.value()));
        return out;
    }

    @net.jqwik.api.Example
    void snapshotDuringAppliesRestoresExactlyTheStateAtItsIndex() throws Exception {
        List<Command> cmds = stream(800, 7);
        List<SnapshotInfo> snaps = new ArrayList<>();
        try (StoreFixture f = new StoreFixture()) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread applier = new Thread(() -> {
                try {
                    Random rnd = new Random(1);
                    int i = 0;
                    while (i < cmds.size()) {
                        int n = Math.min(cmds.size() - i, 1 + rnd.nextInt(20));
                        List<IndexedCommand> batch = new ArrayList<>();
                        for (int j = 0; j < n; j++) batch.add(new IndexedCommand(i + j + 1, 1, cmds.get(i + j)));
                        f.store.applyBatch(batch);
                        i += n;
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "applier");
            applier.start();
            for (int s = 0; s < 3; s++) {
                long target = 150L + s * 200L;
                io.cairn.Await.until("applies past " + target, () -> f.store.appliedIndex() >= target || !applier.isAlive());
                snaps.add(f.store.snapshot(f.dir.resolve("snap-" + s + ".db")));
            }
            applier.join();
            assertThat(failure.get()).isNull();
            int during = 0;
            for (SnapshotInfo s : snaps) if (s.index() > 0 && s.index() < cmds.size()) during++;
            assertThat(during).as("snapshots taken while applies went on").isGreaterThanOrEqualTo(2);
            String finalDump = f.store.dump();

            for (SnapshotInfo s : snaps) {
                // Reference: a fresh store fed exactly the entries up to the snapshot's index.
                String expect;
                try (StoreFixture ref = new StoreFixture()) {
                    List<IndexedCommand> upTo = new ArrayList<>();
                    for (int i = 0; i < s.index(); i++) upTo.add(new IndexedCommand(i + 1, 1, cmds.get(i)));
                    for (int i = 0; i < upTo.size(); i += 100) ref.store.applyBatch(upTo.subList(i, Math.min(upTo.size(), i + 100)));
                    expect = ref.store.dump();
                }
                try (StoreFixture restored = new StoreFixture()) {
                    restored.store.close();
                    SnapshotInfo info = DocumentStore.restore(s.file(), restored.dbFile());
                    assertThat(info.index()).isEqualTo(s.index());
                    restored.store = DocumentStore.open(restored.dbFile(), restored.options);
                    assertThat(restored.store.appliedIndex()).isEqualTo(s.index());
                    assertThat(restored.store.dump()).isEqualTo(expect);
                    // Catching up from the snapshot reaches the same final state.
                    List<IndexedCommand> rest = new ArrayList<>();
                    for (int i = (int) s.index(); i < cmds.size(); i++) rest.add(new IndexedCommand(i + 1, 1, cmds.get(i)));
                    for (int i = 0; i < rest.size(); i += 200) restored.store.applyBatch(rest.subList(i, Math.min(rest.size(), i + 200)));
                    assertThat(restored.store.dump()).isEqualTo(finalDump);
                }
            }
        }
    }

    @Test
    void restoreReplacesAnExistingStoreAndRejectsJunk() throws Exception {
        try (StoreFixture a = new StoreFixture(); StoreFixture b = new StoreFixture()) {
            a.put("c", "k", "{\"from\":\"a\"}");
            SnapshotInfo snap = a.store.snapshot(a.dir.resolve("snap.db"));
            assertThat(snap.index()).isEqualTo(1);
            assertThat(snap.term()).isEqualTo(1);
            for (int i = 0; i < 5; i++) b.put("c", "k" + i, "{\"from\":\"b\"}");
            b.store.close();
            assertThat(Files.exists(b.dbFile())).isTrue();
            DocumentStore.restore(snap.file(), b.dbFile());
            b.store = DocumentStore.open(b.dbFile(), b.options);
            assertThat(b.store.dump()).isEqualTo(a.store.dump());
            // Overwriting an old snapshot file works too.
            a.put("c", "k2", "{}");
            assertThat(a.store.snapshot(snap.file()).index()).isEqualTo(2);

            Path junk = a.dir.resolve("junk.db");
            Files.writeString(junk, "not a database");
            assertThatThrownBy(() -> DocumentStore.restore(junk, b.dbFile())).isInstanceOf(IllegalArgumentException.class);
            assertThat(b.store.get("c", "k").value().json()).isEqualTo("{\"from\":\"a\"}");
        }
    }

    @Test
    void syncAnswersTheAppliedPointAndApplyingGoesOnAfterIt() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            assertThat(f.store.sync()).as("nothing applied yet").isZero();
            f.put("c", "k1", "{\"v\":1}");
            f.put("c", "k2", "{\"v\":2}");
            assertThat(f.store.sync()).isEqualTo(f.store.appliedIndex()).isEqualTo(2);
            f.put("c", "k3", "{\"v\":3}");
            Path wal = Path.of(f.dbFile() + "-wal");
            long walBefore = Files.size(wal);
            assertThat(f.store.sync()).isEqualTo(3);
            assertThat(Files.size(wal)).as("the synced commit wrote a frame (an empty commit would sync nothing)").isGreaterThan(walBefore);
            String before = f.store.dump();
            f.store.close();
            f.store = DocumentStore.open(f.dbFile(), f.options);
            assertThat(f.store.appliedIndex()).isEqualTo(3);
            assertThat(f.store.dump()).as("the synced state is what the file holds").isEqualTo(before);
        }
    }

}
