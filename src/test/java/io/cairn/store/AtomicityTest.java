package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batch commits whole or not at all, with its applied index; what apply returns is committed
 * (visible to an independent connection: no autocommit trap as in NOTES.md); a failure mid-batch
 * leaves the store, in memory and on disk, at the previous index.
 */
class AtomicityTest {
    private static long rawAppliedIndex(StoreFixture f) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f.dbFile());
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT applied_index FROM meta")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void raw(StoreFixture f, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f.dbFile()); Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 5000");
            s.execute(sql);
        }
    }

    @Test
    void everyApplyIsCommittedForOtherConnections() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            for (int i = 0; i < 20; i++) {
                f.put("c", "k" + i, "{}");
                assertThat(rawAppliedIndex(f)).isEqualTo(f.store.appliedIndex());
            }
            List<IndexedCommand> batch = new ArrayList<>();
            for (int i = 21; i <= 60; i++) batch.add(new IndexedCommand(i, 2, Command.Txn.of(0, new Op.Put("c", "b" + i, "{}"))));
            f.store.applyBatch(batch);
            assertThat(rawAppliedIndex(f)).isEqualTo(60);
            assertThat(f.store.appliedTerm()).isEqualTo(2);
        }
    }

    @Test
    void aFailureMidBatchRollsBackTheWholeBatch() throws Exception {
        try (StoreFixture f = new StoreFixture()) {
            f.apply(new Command.CreateCollection("c", List.of(IndexSpec.of("by_v", true, "v")), 0));
            f.put("c", "a", "{\"v\":1}");
            String before = f.store.dump();
            // Sabotage from outside: SQLite itself fails on the history row of entry 6.
            raw(f, "CREATE TRIGGER boom BEFORE INSERT ON history WHEN NEW.rev = 6 BEGIN SELECT RAISE(ABORT, 'injected'); END");
            List<IndexedCommand> batch = List.of(
                    new IndexedCommand(3, 1, Command.Txn.of(0, new Op.Put("c", "b", "{\"v\":2}"))),
                    new IndexedCommand(4, 1, Command.Txn.of(0, new Op.Put("fresh", "x", "{}"))),
                    new IndexedCommand(5, 1, new Command.CreateIndex("fresh", IndexSpec.of("i", false, "y"), 0)),
                    new IndexedCommand(6, 1, Command.Txn.of(0, new Op.Put("c", "c", "{\"v\":3}"))),
                    new IndexedCommand(7, 1, Command.Txn.of(0, new Op.Put("c", "d", "{\"v\":4}"))));
            assertThatThrownBy(() -> f.store.applyBatch(batch)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("rolled back to index 2");
            assertThat(f.store.appliedIndex()).isEqualTo(2);
            assertThat(rawAppliedIndex(f)).isEqualTo(2);
            assertThat(f.store.find("c", "b").value()).isNull();
            assertThat(f.store.listCollections().value()).extracting(CollectionInfo::name).containsExactly("c");
            assertThat(f.store.dump()).isEqualTo(before);
            // The writer's memory was rolled back too: the same batch applies cleanly once SQLite works.
            raw(f, "DROP TRIGGER boom");
            List<ApplyResult> rs = f.store.applyBatch(batch);
            assertThat(rs).allMatch(ApplyResult::ok);
            assertThat(f.store.query("c", Query.all("by_v")).value().docs()).extracting(Document::key)
                    .containsExactly("a", "b", "c", "d");
            assertThat(f.store.listIndexes("fresh").value()).extracting(IndexSpec::name).containsExactly("i");
            // Closing and reopening resumes exactly where the last commit left it.
            String after = f.store.dump();
            f.reopen();
            assertThat(f.store.appliedIndex()).isEqualTo(7);
            assertThat(f.store.dump()).isEqualTo(after);
        }
    }

    @Test
    void entriesMustFollowTheAppliedIndex() {
        try (StoreFixture f = new StoreFixture()) {
            f.apply(Command.Noop.INSTANCE);
            assertThatThrownBy(() -> f.store.apply(3, 1, Command.Noop.INSTANCE)).isInstanceOf(IllegalArgumentException.class);
            assertThat(f.store.apply(1, 1, Command.Noop.INSTANCE).outcome()).isEqualTo(ApplyResult.Outcome.SKIPPED);
            List<ApplyResult> rs = f.store.applyBatch(List.of(new IndexedCommand(1, 1, Command.Noop.INSTANCE),
                    new IndexedCommand(2, 1, Command.Noop.INSTANCE)));
            assertThat(rs).extracting(ApplyResult::outcome)
                    .containsExactly(ApplyResult.Outcome.SKIPPED, ApplyResult.Outcome.APPLIED);
            assertThat(f.store.appliedIndex()).isEqualTo(2);
        }
    }
}
