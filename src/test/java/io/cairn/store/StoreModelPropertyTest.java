package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random command sequences applied to the store (in random batches) and to {@link Model}: every
 * apply result, get, list walk, index query walk, count, catalog read and change-history walk
 * must agree.
 */
class StoreModelPropertyTest {
    static final List<String> COLLS = List.of("a", "b", "B");
    static final List<String> KEYS = List.of("a", "b", "ab", "a\u0000b", "\u00e4", "\uD83D\uDE00", "\uFFFF", "z", "k/1", "../x", "'; DROP TABLE c_1; --");
    static final List<Object> SCALARS = Arrays.asList(null, true, false, 0L, -1L, 1L, new BigDecimal("1.0"), new BigDecimal("2.5"),
            new BigDecimal("-2.50"), new BigInteger("123456789012345678901234567890"), new BigDecimal("1E+400"),
            new BigDecimal("-1E+400"), new BigDecimal("1E-400"), "", "a", "b", "\u00e4", "\uD83D\uDE00", "\uFFFF", "1");
    static final List<String> FIELDS = List.of("age", "name", "address.city");

    private static Arbitrary<Object> value() {
        Arbitrary<Object> scalar = Arbitraries.integers().between(0, SCALARS.size() - 1).map(SCALARS::get);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, scalar),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(List.of(1L))),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Map.of("x", 1L))));
    }

    private static Arbitrary<Map<String, Object>> doc(boolean patch) {
        Arbitrary<Object> v = patch ? Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, value()),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(null))) : value();
        Arbitrary<Object> absent = Arbitraries.just(Json.MISSING);
        Arbitrary<Object> age = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, v), net.jqwik.api.Tuple.of(1, absent));
        Arbitrary<Object> name = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, v), net.jqwik.api.Tuple.of(1, absent));
        Arbitrary<Object> city = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, v), net.jqwik.api.Tuple.of(1, absent));
        Arbitrary<Object> other = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(1, Arbitraries.strings().alpha().ofMaxLength(5).map(s -> (Object) s)),
                net.jqwik.api.Tuple.of(1, absent));
        return Combinators.combine(age, name, city, other).as((a, n, c, o) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            if (a != Json.MISSING) m.put("age", a);
            if (n != Json.MISSING) m.put("name", n);
            if (c != Json.MISSING) {
                Map<String, Object> addr = new LinkedHashMap<>();
                addr.put("city", c);
                m.put("address", addr);
            }
            if (o != Json.MISSING) m.put("other", o);
            return m;
        });
    }

    private static Arbitrary<Op> op() {
        Arbitrary<String> coll = Arbitraries.of(COLLS);
        Arbitrary<String> key = Arbitraries.of(KEYS);
        Arbitrary<Long> ifRev = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(6, Arbitraries.just((Long) null)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)), net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(1, 40)));
        Arbitrary<Op> put = Combinators.combine(coll, key, doc(false), ifRev).as((c, k, d, r) -> new Op.Put(c, k, Json.write(d), r));
        Arbitrary<Op> insert = Combinators.combine(coll, key, doc(false)).as((c, k, d) -> new Op.Insert(c, k, Json.write(d)));
        Arbitrary<Op> patch = Combinators.combine(coll, key, doc(true), ifRev).as((c, k, d, r) -> new Op.Patch(c, k, Json.write(d), r));
        Arbitrary<Op> delete = Combinators.combine(coll, key, ifRev).as(Op.Delete::new);
        Arbitrary<Op> check = Combinators.combine(coll, key, Arbitraries.longs().between(0, 40)).as(Op.Check::new);
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, put), net.jqwik.api.Tuple.of(2, insert),
                net.jqwik.api.Tuple.of(3, patch), net.jqwik.api.Tuple.of(3, delete), net.jqwik.api.Tuple.of(1, check));
    }

    private static Arbitrary<IndexSpec> indexSpec() {
        Arbitrary<List<String>> fields = Arbitraries.of(FIELDS).list().ofMinSize(1).ofMaxSize(2).uniqueElements();
        return Combinators.combine(Arbitraries.of("i1", "i2", "i3"), fields, Arbitraries.of(false, false, true))
                .as(IndexSpec::new);
    }

    @Provide
    Arbitrary<List<Command>> commands() {
        return arbCommands();
    }

    static Arbitrary<Command> arbCommand() {
        Arbitrary<String> coll = Arbitraries.of(COLLS);
        Arbitrary<Command> txn = op().list().ofMinSize(1).ofMaxSize(3).map(ops -> new Command.Txn(ops, 0));
        Arbitrary<Command> createIndex = Combinators.combine(coll, indexSpec()).as((c, s) -> new Command.CreateIndex(c, s, 0));
        Arbitrary<Command> dropIndex = Combinators.combine(coll, Arbitraries.of("i1", "i2", "i3"))
                .as((c, n) -> new Command.DropIndex(c, n, 0));
        Arbitrary<Command> createColl = Combinators.combine(coll, indexSpec().list().ofMaxSize(2).uniqueElements(IndexSpec::name))
                .as((c, s) -> new Command.CreateCollection(c, s, 0));
        Arbitrary<Command> dropColl = coll.map(c -> new Command.DropCollection(c, 0));
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(30, txn), net.jqwik.api.Tuple.of(4, createIndex),
                net.jqwik.api.Tuple.of(1, dropIndex), net.jqwik.api.Tuple.of(2, createColl), net.jqwik.api.Tuple.of(1, dropColl),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Command.Noop.INSTANCE)));
    }

    static Arbitrary<List<Command>> arbCommands() {
        return arbCommand().list().ofMinSize(10).ofMaxSize(150);
    }

    @Property(tries = 60)
    void storeAgreesWithModel(@ForAll("commands") List<Command> commands, @ForAll long seed) {
        Random rnd = new Random(seed);
        StoreOptions options = StoreOptions.defaults().withReadConnections(1)
                .withHistory(rnd.nextBoolean() ? 1_000_000 : 1 + rnd.nextInt(8), 0);
        Model model = new Model(options);
        try (StoreFixture f = new StoreFixture(options)) {
            int i = 0;
            while (i < commands.size()) {
                int n = Math.min(commands.size() - i, 1 + rnd.nextInt(6));
                List<IndexedCommand> batch = new ArrayList<>();
                for (int j = 0; j < n; j++) batch.add(new IndexedCommand(i + j + 1, 1, commands.get(i + j)));
                List<ApplyResult> results = f.store.applyBatch(batch);
                for (int j = 0; j < n; j++) {
                    Model.MResult expect = model.apply(i + j + 1, commands.get(i + j));
                    ApplyResult got = results.get(j);
                    String ctx = "entry " + (i + j + 1) + " " + commands.get(i + j) + " -> " + got;
                    assertThat(got.ok()).as(ctx).isEqualTo(expect.ok());
                    net.jqwik.api.statistics.Statistics.label("outcome").collect(got.ok() ? "applied" : got.error().code().code());
                    if (expect.ok()) {
                        assertThat(got.ops()).as(ctx).isEqualTo(expect.ops());
                        assertThat(got.created()).as(ctx).isEqualTo(expect.created());
                    } else {
                        assertThat(got.error().code()).as(ctx).isEqualTo(expect.code());
                        assertThat(got.error().details().get("failedOp")).as(ctx).isEqualTo(expect.failedOp());
                    }
                }
                i += n;
                if (rnd.nextInt(4) == 0) compareReads(f.store, model, rnd);
            }
            compareReads(f.store, model, rnd);
            String dump = f.store.dump();
            f.reopen();
            assertThat(f.store.dump()).isEqualTo(dump);
        }
    }

    static void compareReads(DocumentStore store, Model model, Random rnd) {
        // Catalog.
        List<CollectionInfo> infos = store.listCollections().value();
        assertThat(infos).extracting(CollectionInfo::name).containsExactlyElementsOf(model.colls.keySet());
        for (CollectionInfo info : infos) {
            Model.MColl m = model.colls.get(info.name());
            assertThat(info.count()).as(info.name()).isEqualTo(m.docs.size());
            assertThat(info.indexes()).isEqualTo(new ArrayList<>(m.indexes.values()));
            assertThat(info.createdRev()).isEqualTo(m.createdRev);
        }
        for (String c : COLLS) {
            Model.MColl m = model.colls.get(c);
            // Gets.
            for (String k : KEYS) {
                Versioned<Document> d = store.find(c, k);
                assertThat(d.appliedRev()).isEqualTo(model.applied);
                Model.MDoc md = m == null ? null : m.docs.get(k);
                if (md == null) {
                    assertThat(d.value()).isNull();
                } else {
                    assertThat(d.value()).isEqualTo(new Document(k, md.rev(), md.json()));
                }
            }
            if (m == null) {
                assertThatThrownBy(() -> store.list(c, null, null, 0)).isInstanceOf(CairnException.class);
                continue;
            }
            // List walks.
            for (String prefix : new String[] {null, "a", "\u00e4", "z", "\uD83D"}) {
                if (prefix != null && !Validation.isWellFormed(prefix)) continue;
                List<String> expect = new ArrayList<>();
                for (String k : m.docs.keySet()) if (prefix == null || k.startsWith(prefix)) expect.add(k);
                assertThat(walkList(store, c, prefix, 1 + rnd.nextInt(4))).as("list " + c + " " + prefix).isEqualTo(expect);
            }
            // Index queries.
            for (IndexSpec s : m.indexes.values()) {
                for (int t = 0; t < 6; t++) {
                    Query q = randomQuery(s, rnd);
                    List<String> expect = model.query(c, q);
                    net.jqwik.api.statistics.Statistics.label("query hits").collect(expect.isEmpty() ? "0" : expect.size() < 3 ? "1-2" : "3+");
                    assertThat(walkQuery(store, c, q)).as("query " + c + " " + q).isEqualTo(expect);
                    assertThat(store.query(c, q.withCount(true)).value().count()).isEqualTo((long) expect.size());
                }
            }
        }
        // History.
        long after = model.floor;
        if (after > 0) {
            long tooOld = after - 1;
            assertThatThrownBy(() -> store.changes(tooOld, 10, null, null))
                    .isInstanceOfSatisfying(CairnException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.COMPACTED);
                        assertThat(e.details().get("oldestRev")).isEqualTo(model.floor + 1);
                    });
        }
        String filter = rnd.nextBoolean() ? null : COLLS.get(rnd.nextInt(COLLS.size()));
        List<Change> got = new ArrayList<>();
        for (int guard = 0; guard < 1000; guard++) {
            ChangePage p = store.changes(after, 1 + rnd.nextInt(3), filter, null).value();
            got.addAll(p.changes());
            if (!p.changes().isEmpty()) {
                long last = p.changes().get(p.changes().size() - 1).rev();
                assertThat(p.resumeRev()).isGreaterThanOrEqualTo(last);
            }
            if (p.resumeRev() == after) break;
            after = p.resumeRev();
        }
        assertThat(after).isEqualTo(model.applied);
        List<Change> expect = new ArrayList<>();
        for (Change ch : model.history) if (filter == null || filter.equals(ch.collection())) expect.add(ch);
        assertThat(got).isEqualTo(expect);
    }

    static List<String> walkList(DocumentStore store, String c, String prefix, int limit) {
        List<String> keys = new ArrayList<>();
        String after = null;
        for (int guard = 0; guard < 100; guard++) {
            DocPage p = store.list(c, prefix, after, limit).value();
            assertThat(p.docs().size()).isLessThanOrEqualTo(limit);
            for (Document d : p.docs()) keys.add(d.key());
            if (p.next() == null) return keys;
            after = p.next();
        }
        throw new AssertionError("list did not end");
    }

    static List<String> walkQuery(DocumentStore store, String c, Query q) {
        List<String> keys = new ArrayList<>();
        Query page = q;
        for (int guard = 0; guard < 100; guard++) {
            DocPage p = store.query(c, page).value();
            for (Document d : p.docs()) keys.add(d.key());
            if (p.next() == null) return keys;
            page = page.withAfter(p.next());
        }
        throw new AssertionError("query did not end");
    }

    static Query randomQuery(IndexSpec s, Random rnd) {
        Query q = Query.all(s.name()).withDesc(rnd.nextBoolean()).withLimit(1 + rnd.nextInt(3));
        switch (rnd.nextInt(4)) {
            case 0:
                return q;
            case 1:
                return q.withEq(bound(s, rnd));
            default: {
                int which = rnd.nextInt(3);
                if (which != 1) q = rnd.nextBoolean() ? q.withGt(bound(s, rnd)) : q.withGte(bound(s, rnd));
                if (which != 0) q = rnd.nextBoolean() ? q.withLt(bound(s, rnd)) : q.withLte(bound(s, rnd));
                return q;
            }
        }
    }

    static List<Object> bound(IndexSpec s, Random rnd) {
        int n = 1 + rnd.nextInt(s.fields().size());
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(SCALARS.get(rnd.nextInt(SCALARS.size())));
        return out;
    }
}
