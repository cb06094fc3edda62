package io.cairn.fault;

import io.cairn.fault.KvInput.Delete;
import io.cairn.fault.KvInput.Put;
import io.cairn.fault.KvInput.Read;
import io.cairn.fault.KvInput.Txn;
import io.cairn.fault.KvInput.TxnCheck;
import io.cairn.fault.KvInput.TxnDelete;
import io.cairn.fault.KvInput.TxnOp;
import io.cairn.fault.KvInput.TxnPut;
import io.cairn.fault.KvOutput.Found;
import io.cairn.fault.KvOutput.NotFound;
import io.cairn.fault.KvOutput.PreconditionFailed;
import io.cairn.fault.KvOutput.TxnNotFound;
import io.cairn.fault.KvOutput.Unknown;
import io.cairn.fault.KvOutput.Written;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The sequential specification of Cairn's documents, for {@link LinearizabilityChecker}: reads,
 * puts (plain, {@code If-Match}, {@code If-None-Match: *}), deletes and multi-key transactions on a
 * handful of keys.
 *
 * <p><b>Revisions.</b> A rev is the Raft log index of the commit, and Raft commits in log order,
 * so (with {@code checkRevisions}) the model also demands, per key, in linearization order:
 * every write's rev is above every rev seen before it (earlier writes, and the applied revision
 * {@code X-Cairn-Rev} of earlier reads, which already included every write at or below it); a read
 * answers the rev of the write it sees; its applied revision is at least that rev and never goes
 * back. A correct node always admits such an order (the order of log indexes, reads placed at
 * their applied revision), so these checks find bugs, not false alarms. Gaps in revs are fine
 * (other keys, no-op entries, failed conditional writes all use log indexes).
 *
 * <p><b>Unknown outcomes.</b> A write that may have happened leaves its rev unknown; a later read
 * learns it (it must then be above the floor). A conditional write whose condition cannot be
 * decided (the rev is unknown) branches: applied or not.
 *
 * <p><b>Partitions.</b> Keys are independent, except those a transaction ties together: the
 * history is split into connected components of keys (union-find over the keys of each op).
 */
public final class KvModel implements Model<KvModel.State, KvInput, KvOutput> {
    /** Rev of a key whose last write had an unknown outcome. */
    public static final long UNKNOWN_REV = -1;

    /**
     * One key: whether the document exists, its value, its rev (0 = never written,
     * {@link #UNKNOWN_REV}), and the floor every later write's rev must exceed.
     */
    public record Key(boolean exists, String value, long rev, long floor) {
        public static final Key NEVER = new Key(false, null, 0, 0);

        @Override
        public String toString() {
            String r = rev == UNKNOWN_REV ? "?" : Long.toString(rev);
            return (exists ? "\"" + value + "\"@" + r : "absent@" + r) + (floor > Math.max(rev, 0) ? " floor " + floor : "");
        }
    }

    /**
     * The state of a partition: the keys that differ from {@link Key#NEVER}, sorted by name.
     * Immutable; small (a handful of keys), so arrays and linear scans beat maps here.
     */
    public static final class State {
        private static final State EMPTY = new State(new String[0], new Key[0]);

        private final String[] names;
        private final Key[] keys;
        private final int hash;

        private State(String[] names, Key[] keys) {
            this.names = names;
            this.keys = keys;
            this.hash = 31 * Arrays.hashCode(names) + Arrays.hashCode(keys);
        }

        public Key get(String key) {
            for (int i = 0; i < names.length; i++) {
                if (names[i].equals(key)) return keys[i];
            }
            return Key.NEVER;
        }

        /** This state with {@code key} set to {@code k} (removed when it is {@link Key#NEVER}). */
        public State with(String key, Key k) {
            int at = Arrays.binarySearch(names, key);
            if (at >= 0) {
                if (k.equals(keys[at])) return this;
                if (k.equals(Key.NEVER)) {
                    String[] n = new String[names.length - 1];
                    Key[] v = new Key[keys.length - 1];
                    System.arraycopy(names, 0, n, 0, at);
                    System.arraycopy(names, at + 1, n, at, names.length - at - 1);
                    System.arraycopy(keys, 0, v, 0, at);
                    System.arraycopy(keys, at + 1, v, at, keys.length - at - 1);
                    return new State(n, v);
                }
                Key[] v = keys.clone();
                v[at] = k;
                return new State(names, v);
            }
            if (k.equals(Key.NEVER)) return this;
            int insert = -at - 1;
            String[] n = new String[names.length + 1];
            Key[] v = new Key[keys.length + 1];
            System.arraycopy(names, 0, n, 0, insert);
            System.arraycopy(keys, 0, v, 0, insert);
            n[insert] = key;
            v[insert] = k;
            System.arraycopy(names, insert, n, insert + 1, names.length - insert);
            System.arraycopy(keys, insert, v, insert + 1, keys.length - insert);
            return new State(n, v);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof State s && hash == s.hash && Arrays.equals(names, s.names) && Arrays.equals(keys, s.keys);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("{");
            for (int i = 0; i < names.length; i++) {
                if (i > 0) sb.append(", ");
                sb.append(names[i]).append('=').append(keys[i]);
            }
            return sb.append('}').toString();
        }
    }

    private enum Cond { TRUE, FALSE, MAYBE }

    private final boolean checkRevisions;

    /** With revision checks (the default). */
    public KvModel() {
        this(true);
    }

    public KvModel(boolean checkRevisions) {
        this.checkRevisions = checkRevisions;
    }

    @Override
    public State init() {
        return State.EMPTY;
    }

    @Override
    public boolean isReadOnly(KvInput input) {
        if (input instanceof Read) return true;
        if (input instanceof Txn t) return t.ops().stream().allMatch(op -> op instanceof TxnCheck);
        return false;
    }

    @Override
    public List<State> step(State state, KvInput input, KvOutput output) {
        if (input instanceof Read r) return read(state, r, output);
        if (input instanceof Put p) return put(state, p, output);
        if (input instanceof Delete d) return delete(state, d, output);
        if (input instanceof Txn t) return txn(state, t, output);
        throw new IllegalArgumentException("unknown input " + input);
    }

    private List<State> read(State state, Read r, KvOutput output) {
        Key k = state.get(r.key());
        if (output instanceof Found f) {
            if (!k.exists() || !k.value().equals(f.value())) return List.of();
            if (f.rev() <= 0) { // no ETag: the value alone is checked
                return checkRevisions && f.readRev() > 0 ? readAt(state, r.key(), k, f.readRev()) : List.of(state);
            }
            if (!checkRevisions) return one(state, r.key(), new Key(true, k.value(), f.rev(), Math.max(k.floor(), f.rev())));
            if (k.rev() == UNKNOWN_REV ? f.rev() <= k.floor() : f.rev() != k.rev()) return List.of();
            if (f.readRev() > 0 && (f.readRev() < f.rev() || f.readRev() < k.floor())) return List.of();
            return one(state, r.key(), new Key(true, k.value(), f.rev(), Math.max(Math.max(k.floor(), f.rev()), f.readRev())));
        }
        if (output instanceof NotFound nf) return notFound(state, r.key(), k, nf);
        return List.of();
    }

    private static List<State> readAt(State state, String key, Key k, long readRev) {
        if (readRev < k.floor()) return List.of();
        return one(state, key, new Key(k.exists(), k.value(), k.rev(), readRev));
    }

    /** The key after a write that committed at {@code rev} (0: the answer did not say). */
    private static Key written(Key k, boolean exists, String value, long rev) {
        return rev > 0 ? new Key(exists, value, rev, rev) : new Key(exists, value, UNKNOWN_REV, k.floor());
    }

    private List<State> notFound(State state, String key, Key k, NotFound nf) {
        if (k.exists()) return List.of();
        if (!checkRevisions || nf.readRev() <= 0) return List.of(state);
        if (nf.readRev() < k.floor() || (k.rev() != UNKNOWN_REV && nf.readRev() < k.rev())) return List.of();
        return one(state, key, new Key(false, null, k.rev(), nf.readRev()));
    }

    private List<State> put(State state, Put p, KvOutput output) {
        Key k = state.get(p.key());
        Cond cond = p.ifMatch() != null ? revIs(k, p.ifMatch()) : p.ifAbsent() ? absent(k) : Cond.TRUE;
        Key applied = new Key(true, p.value(), UNKNOWN_REV, k.floor());
        if (output instanceof Written w) {
            if (cond == Cond.FALSE || !revAbove(w.rev(), k)) return List.of();
            if (checkRevisions && p.ifMatch() != null && w.rev() > 0 && w.rev() <= p.ifMatch()) return List.of();
            return one(state, p.key(), written(k, true, p.value(), w.rev()));
        }
        if (output instanceof PreconditionFailed) {
            return cond == Cond.TRUE ? List.of() : List.of(state);
        }
        if (output instanceof Unknown) return branch(state, cond, state.with(p.key(), applied));
        return List.of();
    }

    private List<State> delete(State state, Delete d, KvOutput output) {
        Key k = state.get(d.key());
        Cond cond = d.ifRev() != null ? revIs(k, d.ifRev()) : k.exists() ? Cond.TRUE : Cond.FALSE;
        if (output instanceof Written w) {
            if (!k.exists() || cond == Cond.FALSE || !revAbove(w.rev(), k)) return List.of();
            return one(state, d.key(), written(k, false, null, w.rev()));
        }
        if (output instanceof NotFound nf) return notFound(state, d.key(), k, nf);
        if (output instanceof PreconditionFailed) {
            return d.ifRev() == null || cond == Cond.TRUE ? List.of() : List.of(state);
        }
        if (output instanceof Unknown) {
            if (!k.exists()) return List.of(state);
            return branch(state, cond, state.with(d.key(), new Key(false, null, UNKNOWN_REV, k.floor())));
        }
        return List.of();
    }

    /**
     * A transaction as Cairn applies it: ops in order against the state before it (each key at
     * most once); the first op that fails decides the answer: a condition ({@code ifRev} of a put or
     * delete, a check) that does not hold is 412 with that op's index, a delete of a missing
     * document (whose condition held) is 404 with that index; otherwise every op applies at one rev.
     */
    private List<State> txn(State state, Txn t, KvOutput output) {
        List<Cond> conds = new ArrayList<>();
        List<Boolean> missing = new ArrayList<>();
        for (TxnOp op : t.ops()) {
            Key k = state.get(op.key());
            conds.add(cond(k, op));
            missing.add(op instanceof TxnDelete && !k.exists());
        }
        if (output instanceof Written w) {
            if (conds.contains(Cond.FALSE) || missing.contains(true)) return List.of();
            State next = state;
            for (TxnOp op : t.ops()) {
                Key k = state.get(op.key());
                if (!revAbove(w.rev(), k)) return List.of();
                if (op instanceof TxnPut p) {
                    next = next.with(op.key(), written(k, true, p.value(), w.rev()));
                } else if (op instanceof TxnDelete) {
                    next = next.with(op.key(), written(k, false, null, w.rev()));
                } else {
                    long expected = ((TxnCheck) op).rev();
                    Key seen = k.rev() == UNKNOWN_REV && expected > 0 ? new Key(true, k.value(), expected, k.floor()) : k; // learned
                    next = next.with(op.key(), raiseFloor(seen, w.rev()));
                }
            }
            return List.of(next);
        }
        if (output instanceof PreconditionFailed pf) {
            if (pf.failedOp() >= 0) {
                int i = pf.failedOp();
                if (i >= conds.size() || !hasCondition(t.ops().get(i)) || !mayPassBefore(conds, missing, i)) return List.of();
                return conds.get(i) == Cond.TRUE ? List.of() : List.of(state);
            }
            return conds.stream().allMatch(c -> c == Cond.TRUE) ? List.of() : List.of(state);
        }
        if (output instanceof TxnNotFound nf) {
            int i = nf.failedOp();
            if (i < 0 || i >= conds.size() || !missing.get(i) || conds.get(i) == Cond.FALSE || !mayPassBefore(conds, missing, i)) {
                return List.of();
            }
            return List.of(state);
        }
        if (output instanceof Unknown) {
            Cond all = conds.contains(Cond.FALSE) || missing.contains(true) ? Cond.FALSE
                    : conds.contains(Cond.MAYBE) ? Cond.MAYBE : Cond.TRUE;
            State applied = state;
            for (TxnOp op : t.ops()) {
                Key k = state.get(op.key());
                if (op instanceof TxnPut p) applied = applied.with(op.key(), new Key(true, p.value(), UNKNOWN_REV, k.floor()));
                else if (op instanceof TxnDelete) applied = applied.with(op.key(), new Key(false, null, UNKNOWN_REV, k.floor()));
            }
            return branch(state, all, applied);
        }
        return List.of();
    }

    /** Whether every op before {@code i} may have passed (so that op {@code i} is the first to fail). */
    private static boolean mayPassBefore(List<Cond> conds, List<Boolean> missing, int i) {
        for (int j = 0; j < i; j++) {
            if (conds.get(j) == Cond.FALSE || missing.get(j)) return false;
        }
        return true;
    }

    private Key raiseFloor(Key k, long rev) {
        return checkRevisions ? new Key(k.exists(), k.value(), k.rev(), Math.max(k.floor(), rev)) : k;
    }

    private static boolean hasCondition(TxnOp op) {
        if (op instanceof TxnPut p) return p.ifRev() != null;
        if (op instanceof TxnDelete d) return d.ifRev() != null;
        return true;
    }

    private Cond cond(Key k, TxnOp op) {
        if (op instanceof TxnPut p) return p.ifRev() == null ? Cond.TRUE : revIs(k, p.ifRev());
        if (op instanceof TxnDelete d) return d.ifRev() == null ? Cond.TRUE : revIs(k, d.ifRev());
        return revIs(k, ((TxnCheck) op).rev());
    }

    /** Whether the document is at {@code expected} (0: does not exist); MAYBE when its rev is unknown. */
    private Cond revIs(Key k, long expected) {
        if (expected == 0) return absent(k);
        if (!k.exists()) return Cond.FALSE;
        if (k.rev() != UNKNOWN_REV) return k.rev() == expected ? Cond.TRUE : Cond.FALSE;
        if (checkRevisions && expected <= k.floor()) return Cond.FALSE;
        return Cond.MAYBE;
    }

    private static Cond absent(Key k) {
        return k.exists() ? Cond.FALSE : Cond.TRUE;
    }

    /** A write at {@code rev} after this key's history: above its floor (and its known rev). */
    private boolean revAbove(long rev, Key k) {
        return !checkRevisions || rev <= 0 || (rev > k.floor() && rev > k.rev());
    }

    private static List<State> branch(State unchanged, Cond cond, State applied) {
        if (cond == Cond.TRUE) return List.of(applied);
        if (cond == Cond.FALSE) return List.of(unchanged);
        return List.of(applied, unchanged);
    }

    private static List<State> one(State state, String key, Key k) {
        return List.of(state.with(key, k));
    }

    @Override
    public List<List<Operation<KvInput, KvOutput>>> partition(List<Operation<KvInput, KvOutput>> history) {
        Map<String, String> parent = new HashMap<>();
        for (Operation<KvInput, KvOutput> op : history) {
            List<String> keys = op.input().keys();
            for (String key : keys) parent.putIfAbsent(key, key);
            for (int i = 1; i < keys.size(); i++) union(parent, keys.get(0), keys.get(i));
        }
        Map<String, List<Operation<KvInput, KvOutput>>> parts = new LinkedHashMap<>();
        for (Operation<KvInput, KvOutput> op : history) {
            parts.computeIfAbsent(find(parent, op.input().keys().get(0)), r -> new ArrayList<>()).add(op);
        }
        return new ArrayList<>(parts.values());
    }

    private static String find(Map<String, String> parent, String key) {
        String root = key;
        while (!parent.get(root).equals(root)) root = parent.get(root);
        while (!key.equals(root)) {
            String next = parent.get(key);
            parent.put(key, root);
            key = next;
        }
        return root;
    }

    private static void union(Map<String, String> parent, String a, String b) {
        String ra = find(parent, a);
        String rb = find(parent, b);
        if (!ra.equals(rb)) parent.put(ra, rb);
    }

    @Override
    public String describePartition(List<Operation<KvInput, KvOutput>> part) {
        TreeSet<String> keys = new TreeSet<>();
        for (Operation<KvInput, KvOutput> op : part) keys.addAll(op.input().keys());
        String all = String.join(",", keys);
        return "keys {" + (all.length() > 120 ? all.substring(0, 117) + "..." : all) + "}";
    }

    @Override
    public String describeState(State state) {
        return state.toString();
    }

    @Override
    public String describeOperation(KvInput input, KvOutput output) {
        return describe(input) + " -> " + describe(output);
    }

    static String describe(KvInput input) {
        if (input instanceof Read r) return "read " + r.key();
        if (input instanceof Put p) {
            return "put " + p.key() + "=\"" + p.value() + "\""
                    + (p.ifMatch() != null ? " if-match " + p.ifMatch() : p.ifAbsent() ? " if-none-match *" : "");
        }
        if (input instanceof Delete d) return "delete " + d.key() + (d.ifRev() != null ? " if-match " + d.ifRev() : "");
        Txn t = (Txn) input;
        return "txn[" + t.ops().stream().map(KvModel::describe).collect(Collectors.joining(", ")) + "]";
    }

    private static String describe(TxnOp op) {
        if (op instanceof TxnPut p) return "put " + p.key() + "=\"" + p.value() + "\"" + (p.ifRev() != null ? " if " + p.ifRev() : "");
        if (op instanceof TxnDelete d) return "delete " + d.key() + (d.ifRev() != null ? " if " + d.ifRev() : "");
        TxnCheck c = (TxnCheck) op;
        return "check " + c.key() + "@" + c.rev();
    }

    static String describe(KvOutput output) {
        if (output instanceof Found f) return "\"" + f.value() + "\"@" + f.rev() + (f.readRev() > 0 ? " (read at " + f.readRev() + ")" : "");
        if (output instanceof NotFound nf) return "404" + (nf.readRev() > 0 ? " (read at " + nf.readRev() + ")" : "");
        if (output instanceof Written w) return "ok @" + w.rev();
        if (output instanceof PreconditionFailed pf) return "412" + (pf.failedOp() >= 0 ? " (op " + pf.failedOp() + ")" : "");
        if (output instanceof TxnNotFound nf) return "404 (op " + nf.failedOp() + ")";
        return "?";
    }
}
