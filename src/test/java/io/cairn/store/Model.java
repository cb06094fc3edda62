package io.cairn.store;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A plain in-memory model of the store's semantics (API.md), written independently of the SQLite
 * code: no value keys, no SQL, just maps, lists and a reference comparator.
 */
final class Model {
    record MDoc(long rev, Object tree, String json) {}

    static final class MColl {
        final long createdRev;
        final TreeMap<String, MDoc> docs = new TreeMap<>(Model::compareKeys);
        final TreeMap<String, IndexSpec> indexes = new TreeMap<>();

        MColl(long createdRev) {
            this.createdRev = createdRev;
        }

        MColl copy() {
            MColl c = new MColl(createdRev);
            c.docs.putAll(docs);
            c.indexes.putAll(indexes);
            return c;
        }
    }

    /** Result of one command in the model: ok with op results / created, or an error code with failedOp. */
    record MResult(boolean ok, boolean created, List<ApplyResult.OpResult> ops, ErrorCode code, Integer failedOp) {}

    final StoreOptions options;
    long applied;
    TreeMap<String, MColl> colls = new TreeMap<>();
    final List<Change> history = new ArrayList<>();
    long floor;

    Model(StoreOptions options) {
        this.options = options;
    }

    static int compareKeys(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    // ---- reference value order ----------------------------------------------------------------

    static int rank(Object v) {
        if (v == null) return 0;
        if (Boolean.FALSE.equals(v)) return 1;
        if (Boolean.TRUE.equals(v)) return 2;
        if (v instanceof Number) return 3;
        if (v instanceof String) return 4;
        throw new IllegalArgumentException("not a scalar: " + v);
    }

    static BigDecimal dec(Object n) {
        if (n instanceof Long l) return BigDecimal.valueOf(l);
        if (n instanceof Integer i) return BigDecimal.valueOf(i);
        if (n instanceof BigInteger b) return new BigDecimal(b);
        return (BigDecimal) n;
    }

    static int compareValues(Object a, Object b) {
        int ra = rank(a);
        int rb = rank(b);
        if (ra != rb) return Integer.compare(ra, rb);
        if (ra == 3) return dec(a).compareTo(dec(b));
        if (ra == 4) {
            return Arrays.compareUnsigned(((String) a).getBytes(StandardCharsets.UTF_8), ((String) b).getBytes(StandardCharsets.UTF_8));
        }
        return 0;
    }

    static int compareTuples(List<Object> a, List<Object> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = compareValues(a.get(i), b.get(i));
            if (c != 0) return c;
        }
        return Integer.compare(a.size(), b.size());
    }

    /** The values of the index fields of a document, or null when one is absent or not a scalar. */
    static List<Object> entry(IndexSpec spec, Object doc) {
        List<Object> out = new ArrayList<>();
        for (String f : spec.fields()) {
            Object cur = doc;
            for (String seg : f.split("\\.", -1)) {
                if (!(cur instanceof Map<?, ?> m) || !m.containsKey(seg)) return null;
                cur = m.get(seg);
            }
            if (cur instanceof Map || cur instanceof List) return null;
            out.add(cur);
        }
        return out;
    }

    static boolean sameEntry(List<Object> a, List<Object> b) {
        if (a == null || b == null) return a == b;
        return compareTuples(a, b) == 0;
    }

    // ---- applying -----------------------------------------------------------------------------

    private static final class Reject extends RuntimeException {
        final ErrorCode code;

        Reject(ErrorCode code) {
            super(code.code(), null, false, false);
            this.code = code;
        }
    }

    MResult apply(long index, Command c) {
        applied = index;
        TreeMap<String, MColl> saved = new TreeMap<>();
        colls.forEach((k, v) -> saved.put(k, v.copy()));
        int historySize = history.size();
        int[] opAt = {-1};
        try {
            MResult r = dispatch(index, c, opAt);
            trim();
            return r;
        } catch (Reject e) {
            colls = saved;
            while (history.size() > historySize) history.remove(history.size() - 1);
            return new MResult(false, false, List.of(), e.code, opAt[0] >= 0 ? opAt[0] : null);
        }
    }

    private void trim() {
        while (history.size() > options.historyRetain()) {
            long rev = history.get(0).rev();
            while (!history.isEmpty() && history.get(0).rev() == rev) history.remove(0);
            floor = Math.max(floor, rev);
        }
    }

    private MResult dispatch(long index, Command c, int[] opAt) {
        if (c instanceof Command.Noop) return new MResult(true, false, List.of(), null, null);
        if (c instanceof Command.CreateCollection cc) {
            MColl existing = colls.get(cc.name());
            if (existing != null) {
                for (IndexSpec s : cc.indexes()) {
                    if (!s.equals(existing.indexes.get(s.name()))) throw new Reject(ErrorCode.CONFLICT);
                }
                return new MResult(true, false, List.of(), null, null);
            }
            MColl m = new MColl(index);
            for (IndexSpec s : cc.indexes()) m.indexes.put(s.name(), s);
            colls.put(cc.name(), m);
            return new MResult(true, true, List.of(), null, null);
        }
        if (c instanceof Command.DropCollection dc) {
            if (colls.remove(dc.name()) == null) throw new Reject(ErrorCode.NOT_FOUND);
            history.add(new Change(index, 0, "drop", dc.name(), null, null, null));
            return new MResult(true, false, List.of(), null, null);
        }
        if (c instanceof Command.CreateIndex ci) {
            MColl m = colls.get(ci.collection());
            if (m != null) {
                IndexSpec ex = m.indexes.get(ci.index().name());
                if (ex != null) {
                    if (ex.equals(ci.index())) return new MResult(true, false, List.of(), null, null);
                    throw new Reject(ErrorCode.CONFLICT);
                }
                if (m.indexes.size() >= options.indexesPerCollectionMax()) throw new Reject(ErrorCode.BAD_REQUEST);
            } else {
                m = new MColl(index);
                colls.put(ci.collection(), m);
            }
            if (ci.index().unique()) {
                List<List<Object>> seen = new ArrayList<>();
                for (MDoc d : m.docs.values()) {
                    List<Object> e = entry(ci.index(), d.tree());
                    if (e == null) continue;
                    for (List<Object> s : seen) if (sameEntry(s, e)) throw new Reject(ErrorCode.UNIQUE_VIOLATION);
                    seen.add(e);
                }
            }
            m.indexes.put(ci.index().name(), ci.index());
            return new MResult(true, true, List.of(), null, null);
        }
        if (c instanceof Command.DropIndex di) {
            MColl m = colls.get(di.collection());
            if (m == null || m.indexes.remove(di.name()) == null) throw new Reject(ErrorCode.NOT_FOUND);
            return new MResult(true, false, List.of(), null, null);
        }
        Command.Txn t = (Command.Txn) c;
        List<ApplyResult.OpResult> out = new ArrayList<>();
        int seq = 0;
        for (int i = 0; i < t.ops().size(); i++) {
            opAt[0] = i;
            Op op = t.ops().get(i);
            MColl m = colls.get(op.collection());
            MDoc old = m == null ? null : m.docs.get(op.key());
            if (op instanceof Op.Check ch) {
                long have = old == null ? 0 : old.rev();
                if (have != ch.rev()) throw new Reject(ErrorCode.PRECONDITION_FAILED);
                out.add(new ApplyResult.OpResult(op.key(), have, false));
                continue;
            }
            Long ifRev = op instanceof Op.Put p ? p.ifRev() : op instanceof Op.Patch p ? p.ifRev()
                    : op instanceof Op.Delete d ? d.ifRev() : null;
            if (ifRev != null) {
                if (ifRev == 0 && old != null) throw new Reject(ErrorCode.PRECONDITION_FAILED);
                if (ifRev > 0 && (old == null || old.rev() != ifRev)) throw new Reject(ErrorCode.PRECONDITION_FAILED);
            }
            if (op instanceof Op.Delete) {
                if (old == null) throw new Reject(ErrorCode.NOT_FOUND);
                m.docs.remove(op.key());
                history.add(new Change(index, seq++, "delete", op.collection(), op.key(), null, old.json()));
                out.add(new ApplyResult.OpResult(op.key(), index, false));
                continue;
            }
            Object tree;
            String json;
            if (op instanceof Op.Put p) {
                tree = Json.parse(p.docJson(), 64);
                json = p.docJson();
            } else if (op instanceof Op.Insert ins) {
                if (old != null) throw new Reject(ErrorCode.CONFLICT);
                tree = Json.parse(ins.docJson(), 64);
                json = ins.docJson();
            } else {
                if (old == null) throw new Reject(ErrorCode.NOT_FOUND);
                tree = Json.mergePatch(old.tree(), Json.parse(((Op.Patch) op).mergePatchJson(), 64));
                json = Json.write(tree);
            }
            if (m != null) {
                for (IndexSpec s : m.indexes.values()) {
                    if (!s.unique()) continue;
                    List<Object> e = entry(s, tree);
                    if (e == null || (old != null && sameEntry(e, entry(s, old.tree())))) continue;
                    for (Map.Entry<String, MDoc> other : m.docs.entrySet()) {
                        if (!other.getKey().equals(op.key()) && sameEntry(e, entry(s, other.getValue().tree()))) {
                            throw new Reject(ErrorCode.UNIQUE_VIOLATION);
                        }
                    }
                }
            } else {
                m = new MColl(index);
                colls.put(op.collection(), m);
            }
            m.docs.put(op.key(), new MDoc(index, tree, json));
            history.add(new Change(index, seq++, "put", op.collection(), op.key(), json, old == null ? null : old.json()));
            out.add(new ApplyResult.OpResult(op.key(), index, old == null));
        }
        return new MResult(true, false, out, null, null);
    }

    // ---- reads --------------------------------------------------------------------------------

    /** Keys of the documents matching a query, in query order (before paging). */
    List<String> query(String coll, Query q) {
        MColl m = colls.get(coll);
        IndexSpec s = m.indexes.get(q.index());
        List<Map.Entry<String, List<Object>>> rows = new ArrayList<>();
        for (Map.Entry<String, MDoc> d : m.docs.entrySet()) {
            List<Object> e = entry(s, d.getValue().tree());
            if (e == null) continue;
            if (q.eq() != null && compareTuples(e.subList(0, q.eq().size()), q.eq()) != 0) continue;
            if (q.gt() != null && compareTuples(e.subList(0, q.gt().size()), q.gt()) <= 0) continue;
            if (q.gte() != null && compareTuples(e.subList(0, q.gte().size()), q.gte()) < 0) continue;
            if (q.lt() != null && compareTuples(e.subList(0, q.lt().size()), q.lt()) >= 0) continue;
            if (q.lte() != null && compareTuples(e.subList(0, q.lte().size()), q.lte()) > 0) continue;
            rows.add(Map.entry(d.getKey(), e));
        }
        Comparator<Map.Entry<String, List<Object>>> cmp = (a, b) -> {
            int c = compareTuples(a.getValue(), b.getValue());
            return c != 0 ? c : compareKeys(a.getKey(), b.getKey());
        };
        rows.sort(q.desc() ? cmp.reversed() : cmp);
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, List<Object>> r : rows) keys.add(r.getKey());
        return keys;
    }

    Map<String, Object> snapshotDocs(String coll) {
        Map<String, Object> out = new LinkedHashMap<>();
        MColl m = colls.get(coll);
        if (m != null) m.docs.forEach((k, v) -> out.put(k, v.rev() + " " + v.json()));
        return out;
    }
}
