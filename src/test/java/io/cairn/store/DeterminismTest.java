package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Two stores fed the same entries hold the same content (canonical dump), however the entries are
 * batched, with history trimmed by count and by age and leader clocks that jump back and forth.
 */
class DeterminismTest {
    @Provide
    Arbitrary<List<Command>> commands() {
        return StoreModelPropertyTest.arbCommands();
    }

    @Property(tries = 25)
    void sameEntriesSameDump(@ForAll("commands") List<Command> commands, @ForAll long seed) {
        Random rnd = new Random(seed);
        StoreOptions options = StoreOptions.defaults().withReadConnections(1)
                .withHistory(1 + rnd.nextInt(20), 1 + rnd.nextInt(3000));
        List<IndexedCommand> entries = new ArrayList<>();
        long time = 1_000_000;
        for (int i = 0; i < commands.size(); i++) {
            time += rnd.nextInt(500) - 100; // mostly forward, sometimes back (clock skew between leaders)
            entries.add(new IndexedCommand(i + 1, 1 + i / 10, withTime(commands.get(i), time)));
        }
        try (StoreFixture one = new StoreFixture(options); StoreFixture batched = new StoreFixture(options)) {
            List<ApplyResult> r1 = new ArrayList<>();
            for (IndexedCommand e : entries) r1.add(one.store.apply(e.index(), e.term(), e.command()));
            List<ApplyResult> r2 = new ArrayList<>();
            int i = 0;
            while (i < entries.size()) {
                int n = Math.min(entries.size() - i, 1 + rnd.nextInt(30));
                r2.addAll(batched.store.applyBatch(entries.subList(i, i + n)));
                i += n;
            }
            assertThat(describe(r2)).isEqualTo(describe(r1));
            assertThat(batched.store.dump()).isEqualTo(one.store.dump());
            assertThat(batched.store.appliedTerm()).isEqualTo(entries.get(entries.size() - 1).term());
        }
    }

    static List<String> describe(List<ApplyResult> rs) {
        List<String> out = new ArrayList<>();
        for (ApplyResult r : rs) {
            out.add(r.index() + " " + r.outcome() + " " + r.created() + " " + r.ops()
                    + (r.error() == null ? "" : " " + r.error().code() + " " + r.error().getMessage() + " " + r.error().details()));
        }
        return out;
    }

    static Command withTime(Command c, long t) {
        if (c instanceof Command.Txn x) return new Command.Txn(x.ops(), t);
        if (c instanceof Command.CreateCollection x) return new Command.CreateCollection(x.name(), x.indexes(), t);
        if (c instanceof Command.DropCollection x) return new Command.DropCollection(x.name(), t);
        if (c instanceof Command.CreateIndex x) return new Command.CreateIndex(x.collection(), x.index(), t);
        if (c instanceof Command.DropIndex x) return new Command.DropIndex(x.collection(), x.name(), t);
        return new Command.Noop(t);
    }
}
