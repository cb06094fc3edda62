package io.cairn.fault;

import java.util.List;
import java.util.Objects;

/**
 * What a client asked of Cairn's document API, reduced to what {@link KvModel} checks. A key is
 * {@code collection/key}; a value is whatever identifies the document written (the workload writes
 * unique values, which keeps the search small).
 */
public sealed interface KvInput {
    /** {@code GET /v1/collections/{c}/docs/{key}} (linearizable read). */
    record Read(String key) implements KvInput {
        public Read {
            Objects.requireNonNull(key, "key");
        }
    }

    /**
     * {@code PUT} of a whole document: plain ({@code ifMatch == null}, {@code ifAbsent == false}),
     * compare-and-set ({@code If-Match: "ifMatch"}) or create-only ({@code If-None-Match: *}).
     */
    record Put(String key, String value, Long ifMatch, boolean ifAbsent) implements KvInput {
        public Put {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (ifMatch != null && ifAbsent) throw new IllegalArgumentException("If-Match and If-None-Match together");
        }

        public static Put plain(String key, String value) {
            return new Put(key, value, null, false);
        }

        public static Put ifMatch(String key, String value, long rev) {
            return new Put(key, value, rev, false);
        }

        public static Put ifAbsent(String key, String value) {
            return new Put(key, value, null, true);
        }
    }

    /** {@code DELETE}, optionally with {@code If-Match: "ifRev"}. */
    record Delete(String key, Long ifRev) implements KvInput {
        public Delete {
            Objects.requireNonNull(key, "key");
        }
    }

    /** {@code POST /v1/txn}: all or nothing, one rev. Touch each key at most once. */
    record Txn(List<TxnOp> ops) implements KvInput {
        public Txn {
            ops = List.copyOf(ops);
            if (ops.isEmpty()) throw new IllegalArgumentException("empty txn");
        }
    }

    /** One op of a {@link Txn}; {@code ifRev}/{@code rev} 0 means "must not exist". */
    sealed interface TxnOp {
        String key();
    }

    record TxnPut(String key, String value, Long ifRev) implements TxnOp {
        public TxnPut {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    record TxnDelete(String key, Long ifRev) implements TxnOp {
        public TxnDelete {
            Objects.requireNonNull(key, "key");
        }
    }

    record TxnCheck(String key, long rev) implements TxnOp {
        public TxnCheck {
            Objects.requireNonNull(key, "key");
        }
    }

    /** The keys this input touches. */
    default List<String> keys() {
        if (this instanceof Read r) return List.of(r.key());
        if (this instanceof Put p) return List.of(p.key());
        if (this instanceof Delete d) return List.of(d.key());
        return ((Txn) this).ops().stream().map(TxnOp::key).toList();
    }
}
