package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryTest {
    private static CairnException compacted(DocumentStore s, long after) {
        try {
            s.changes(after, 10, null, null);
        } catch (CairnException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.COMPACTED);
            return e;
        }
        throw new AssertionError("expected compacted");
    }

    @Test
    void trimmedByAgeOfTheCommandClock() {
        try (StoreFixture f = new StoreFixture(StoreOptions.defaults().withHistory(1_000_000, 1000))) {
            f.apply(Command.Txn.of(10_000, new Op.Put("c", "a", "{}")));        // rev 1
            f.apply(Command.Txn.of(10_500, new Op.Put("c", "b", "{}")));        // rev 2
            f.apply(Command.Txn.of(11_200, new Op.Put("c", "c", "{}")));        // rev 3: rev 1 is now older than 1 s
            assertThat(f.store.changes(1, 10, null, null).value().changes()).extracting(Change::rev).containsExactly(2L, 3L);
            assertThat(compacted(f.store, 0).details()).containsEntry("oldestRev", 2L);
            f.apply(Command.Txn.of(9_000, new Op.Put("c", "d", "{}")));         // rev 4: a clock behind does not resurrect
            assertThat(f.store.changes(1, 10, null, null).value().changes()).extracting(Change::rev).containsExactly(2L, 3L, 4L);
            f.apply(new Command.Noop(20_000));                                   // rev 5: everything is old now
            assertThat(compacted(f.store, 3).details()).containsEntry("oldestRev", 5L);
            ChangePage p = f.store.changes(4, 10, null, null).value();
            assertThat(p.changes()).isEmpty();
            assertThat(p.resumeRev()).isEqualTo(5);
        }
    }

    @Test
    void trimmedByCountInWholeRevisions() {
        try (StoreFixture f = new StoreFixture(StoreOptions.defaults().withHistory(3, 0))) {
            f.txn(new Op.Put("c", "a", "{}"), new Op.Put("c", "b", "{}"));      // rev 1: 2 changes
            f.txn(new Op.Put("c", "c", "{}"), new Op.Put("c", "d", "{}"));      // rev 2: 4 in all -> rev 1 goes
            assertThat(compacted(f.store, 0).details()).containsEntry("oldestRev", 2L);
            assertThat(f.store.changes(1, 10, null, null).value().changes()).hasSize(2);
            f.txn(new Op.Put("c", "e", "{}"), new Op.Put("c", "f", "{}"), new Op.Put("c", "g", "{}"), new Op.Put("c", "h", "{}"));
            // A revision bigger than the whole allowance is dropped whole, never split.
            assertThat(compacted(f.store, 2).details()).containsEntry("oldestRev", 4L);
            assertThat(f.store.changes(3, 10, null, null).value().changes()).isEmpty();
        }
    }

    @Test
    void pagesNeverSplitARevisionAndFiltersMoveTheResumePoint() {
        try (StoreFixture f = new StoreFixture()) {
            List<Op> ops = new ArrayList<>();
            for (int i = 0; i < 7; i++) ops.add(new Op.Put("big", "k" + i, "{}"));
            f.apply(new Command.Txn(ops, 0));                                    // rev 1: 7 changes
            f.put("other", "x", "{}");                                           // rev 2
            f.put("big", "k0", "{\"v\":2}");                                     // rev 3
            f.put("other", "y", "{}");                                           // rev 4
            f.apply(new Command.DropCollection("big", 0));                       // rev 5
            f.put("other", "z", "{}");                                           // rev 6
            ChangePage p = f.store.changes(0, 2, null, null).value();
            assertThat(p.changes()).hasSize(7);
            assertThat(p.resumeRev()).isEqualTo(1);
            p = f.store.changes(1, 2, null, null).value();
            assertThat(p.changes()).extracting(Change::rev).containsExactly(2L, 3L);
            assertThat(p.resumeRev()).isEqualTo(3);
            // Key filter: the document's changes and the drop of its collection.
            p = f.store.changes(0, 100, "big", "k0").value();
            assertThat(p.changes()).extracting(c -> c.rev() + c.op()).containsExactly("1put", "3put", "5drop");
            assertThat(p.changes().get(1).prev()).isEqualTo("{}");
            assertThat(p.resumeRev()).isEqualTo(6);
            // Nothing matches: the resume point still advances to what was scanned.
            p = f.store.changes(0, 100, "nothing", null).value();
            assertThat(p.changes()).isEmpty();
            assertThat(p.resumeRev()).isEqualTo(6);
            assertThat(f.store.changes(6, 100, null, null).value().resumeRev()).isEqualTo(6);
            assertThat(f.store.changes(60, 100, null, null).value().resumeRev()).isEqualTo(60);
        }
    }

    @Test
    void theScanBoundStopsAtARevisionBoundary() {
        try (StoreFixture f = new StoreFixture(StoreOptions.defaults().withChangesScanMax(3))) {
            for (int i = 0; i < 5; i++) f.txn(new Op.Put("a", "k" + i, "{}"), new Op.Put("a", "j" + i, "{}"));
            long after = 0;
            int calls = 0;
            while (after < f.store.appliedIndex()) {
                ChangePage p = f.store.changes(after, 100, "b", null).value();
                assertThat(p.changes()).isEmpty();
                assertThat(p.resumeRev()).isGreaterThan(after);
                after = p.resumeRev();
                calls++;
            }
            assertThat(calls).isGreaterThan(1);
        }
    }
}
