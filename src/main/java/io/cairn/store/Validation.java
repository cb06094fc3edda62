package io.cairn.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checks of client input, pure and static, shared by the leader (before it proposes, so bad
 * input never reaches the log) and by {@link DocumentStore#apply} (which re-checks the same way, so
 * a bad command that did reach the log is rejected identically on every replica).
 *
 * <p>Every failure is a {@link CairnException} with a message a person can act on: names
 * {@code invalid_name}; keys {@code invalid_key}; JSON {@code invalid_json} (including nesting
 * deeper than {@link StoreOptions#nestingDepthMax()}); sizes {@code payload_too_large}; anything
 * else {@code bad_request}. An error inside a transaction carries detail {@code failedOp}.
 */
public final class Validation {
    /** The API name pattern, {@code ^[A-Za-z][A-Za-z0-9_-]{0,63}$}. */
    public static final String NAME_PATTERN = "^[A-Za-z][A-Za-z0-9_-]{0,63}$";
    public static final int NAME_CHARS_MAX = 64;
    public static final int KEY_BYTES_MAX = 512;
    /** Bytes of one dotted index field path. */
    public static final int FIELD_PATH_BYTES_MAX = 256;

    private Validation() {}

    /** Whether {@code name} matches {@link #NAME_PATTERN}. */
    public static boolean isValidName(String name) {
        if (name == null || name.isEmpty() || name.length() > NAME_CHARS_MAX) return false;
        char c0 = name.charAt(0);
        if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z'))) return false;
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            if (!ok) return false;
        }
        return true;
    }

    /**
     * @param kind what the name names, for the message ("collection", "index")
     * @throws CairnException {@code invalid_name}
     */
    public static void name(String kind, String name) {
        if (!isValidName(name)) {
            throw new CairnException(ErrorCode.INVALID_NAME, "The " + kind + " name "
                    + (name == null ? "(missing)" : Json.quoteShort(name))
                    + " is invalid: use 1 to 64 letters, digits, '_' or '-', starting with a letter.");
        }
    }

    /** @throws CairnException {@code invalid_key} unless the key is 1..512 bytes of well-formed UTF-8 */
    public static void key(String key) {
        if (key == null) throw new CairnException(ErrorCode.INVALID_KEY, "A document key is required.");
        int n = utf8Length(key);
        if (n < 0) throw new CairnException(ErrorCode.INVALID_KEY, "The key holds a lone surrogate; keys are UTF-8 text.");
        if (n < 1 || n > KEY_BYTES_MAX) {
            throw new CairnException(ErrorCode.INVALID_KEY, "A key must be 1 to 512 bytes of UTF-8; this one has " + n + ".");
        }
    }

    /** UTF-8 length of {@code s}, or -1 if it holds a lone surrogate. */
    public static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return -1;
                n += 4;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return -1;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** Whether {@code s} is well-formed UTF-16 (every surrogate paired), i.e. encodable as UTF-8. */
    public static boolean isWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isSurrogate(c)) {
                if (!Character.isHighSurrogate(c) || i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
            }
        }
        return true;
    }

    /**
     * Checks an index definition: its name, 1..{@code indexFieldsMax} distinct dotted paths of
     * non-empty segments, each at most {@value #FIELD_PATH_BYTES_MAX} UTF-8 bytes.
     */
    public static void indexSpec(IndexSpec spec, StoreOptions o) {
        name("index", spec.name());
        List<String> fields = spec.fields();
        if (fields.isEmpty() || fields.size() > o.indexFieldsMax()) {
            throw new CairnException(ErrorCode.BAD_REQUEST,
                    "An index needs 1 to " + o.indexFieldsMax() + " fields; " + Json.quoteShort(spec.name())
                            + " has " + fields.size() + ".");
        }
        Set<String> seen = new HashSet<>();
        for (String f : fields) {
            if (f == null) throw new CairnException(ErrorCode.BAD_REQUEST, "An index field is null.");
            int n = utf8Length(f);
            if (n < 1 || n > FIELD_PATH_BYTES_MAX) {
                throw new CairnException(ErrorCode.BAD_REQUEST,
                        "An index field must be 1 to " + FIELD_PATH_BYTES_MAX + " bytes of UTF-8 text: " + Json.quoteShort(f) + ".");
            }
            for (String seg : f.split("\\.", -1)) {
                if (seg.isEmpty()) {
                    throw new CairnException(ErrorCode.BAD_REQUEST,
                            "The index field " + Json.quoteShort(f) + " has an empty segment; write paths like \"address.city\".");
                }
            }
            if (!seen.add(f)) {
                throw new CairnException(ErrorCode.BAD_REQUEST, "The index field " + Json.quoteShort(f) + " is listed twice.");
            }
        }
    }

    /**
     * Parses and checks a document: at most {@code docBytesMax} UTF-8 bytes, JSON, an object,
     * nested at most {@code nestingDepthMax} deep.
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> document(String json, StoreOptions o) {
        checkSize(json, o, "document");
        return parseObject(json, o);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parseObject(String json, StoreOptions o) {
        Object v = Json.parse(json, o.nestingDepthMax());
        if (!(v instanceof Map)) {
            throw new CairnException(ErrorCode.BAD_REQUEST, "A document must be a JSON object, not " + kind(v) + ".");
        }
        return (Map<String, Object>) v;
    }

    /** Parses and checks an RFC 7396 merge patch: like a document, it must be a JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> patch(String json, StoreOptions o) {
        checkSize(json, o, "merge patch");
        Object v = Json.parse(json, o.nestingDepthMax());
        if (!(v instanceof Map)) {
            throw new CairnException(ErrorCode.BAD_REQUEST,
                    "A merge patch must be a JSON object (a patch of another kind would replace the document with a non-object).");
        }
        return (Map<String, Object>) v;
    }

    static int checkSize(String json, StoreOptions o, String what) {
        if (json == null) throw new CairnException(ErrorCode.INVALID_JSON, "The " + what + " is missing.");
        // Cheap bound first: a String of more chars than max bytes is over for sure.
        if (json.length() > o.docBytesMax()) throw tooLarge(what, o);
        int n = utf8Length(json);
        if (n > o.docBytesMax()) throw tooLarge(what, o);
        if (n < 0) throw new CairnException(ErrorCode.INVALID_JSON, "The " + what + " holds a lone surrogate.");
        return n;
    }

    private static CairnException tooLarge(String what, StoreOptions o) {
        return new CairnException(ErrorCode.PAYLOAD_TOO_LARGE,
                "The " + what + " is larger than " + o.docBytesMax() + " bytes.");
    }

    static String kind(Object v) {
        if (v == null) return "null";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        if (v instanceof Number) return "a number";
        return "an object";
    }

    /**
     * Checks a whole command and returns it with documents and patches in compact canonical JSON,
     * ready to propose. Idempotent.
     *
     * @throws CairnException the first problem found (with {@code failedOp} inside a Txn)
     */
    public static Command normalize(Command c, StoreOptions o) {
        if (c.timeMillis() < 0) throw new CairnException(ErrorCode.BAD_REQUEST, "timeMillis must not be negative.");
        if (c instanceof Command.CreateCollection cc) {
            createCollection(cc, o);
            return cc;
        }
        if (c instanceof Command.DropCollection dc) {
            name("collection", dc.name());
            return dc;
        }
        if (c instanceof Command.CreateIndex ci) {
            name("collection", ci.collection());
            indexSpec(ci.index(), o);
            return ci;
        }
        if (c instanceof Command.DropIndex di) {
            name("collection", di.collection());
            name("index", di.name());
            return di;
        }
        if (c instanceof Command.Txn t) return normalizeTxn(t, o);
        if (c instanceof Command.Noop n) return n;
        throw new IllegalStateException("unknown command " + c.getClass().getName());
    }

    static void createCollection(Command.CreateCollection cc, StoreOptions o) {
        name("collection", cc.name());
        if (cc.indexes().size() > o.indexesPerCollectionMax()) {
            throw new CairnException(ErrorCode.BAD_REQUEST,
                    "A collection has at most " + o.indexesPerCollectionMax() + " indexes.");
        }
        Set<String> names = new HashSet<>();
        for (IndexSpec s : cc.indexes()) {
            indexSpec(s, o);
            if (!names.add(s.name())) {
                throw new CairnException(ErrorCode.BAD_REQUEST, "The index name " + Json.quoteShort(s.name()) + " is listed twice.");
            }
        }
    }

    private static Command.Txn normalizeTxn(Command.Txn t, StoreOptions o) {
        Object[] parsed = txn(t, o);
        List<Op> out = new ArrayList<>(t.ops().size());
        long total = 0;
        for (int i = 0; i < parsed.length; i++) {
            Op op = t.ops().get(i);
            try {
                if (op instanceof Op.Put p) {
                    String doc = canonical(parsed[i], o, "document");
                    total += utf8Length(doc);
                    out.add(new Op.Put(p.collection(), p.key(), doc, p.ifRev()));
                } else if (op instanceof Op.Insert p) {
                    String doc = canonical(parsed[i], o, "document");
                    total += utf8Length(doc);
                    out.add(new Op.Insert(p.collection(), p.key(), doc));
                } else if (op instanceof Op.Patch p) {
                    String patch = canonical(parsed[i], o, "merge patch");
                    total += utf8Length(patch);
                    out.add(new Op.Patch(p.collection(), p.key(), patch, p.ifRev()));
                } else {
                    out.add(op);
                }
            } catch (CairnException e) {
                throw withFailedOp(e, i);
            }
            if (total > o.txnBytesMax()) throw withFailedOp(txnTooLarge(o), i);
        }
        return new Command.Txn(out, t.timeMillis());
    }

    private static String canonical(Object tree, StoreOptions o, String what) {
        String s = Json.write(tree);
        if (utf8Length(s) > o.docBytesMax()) throw tooLarge(what, o);
        return s;
    }

    /**
     * Checks every op of a transaction and parses its document or patch (the same checks apply
     * makes). Returns, per op, the parsed document (put, insert), patch (patch) or null.
     */
    static Object[] txn(Command.Txn t, StoreOptions o) {
        return txn(t, o, null);
    }

    /**
     * A put or insert document checked by {@link Json#scan} along {@code paths}: the values found
     * there, instead of the whole tree.
     */
    record Scanned(String[][] paths, Object[] values) {}

    /**
     * As {@link #txn(Command.Txn, StoreOptions)}; with {@code pathsOf} (collection name to the
     * index paths of that collection, empty if none) put and insert documents are checked by
     * {@link Json#scan} and come back as {@link Scanned}, without building a tree.
     */
    static Object[] txn(Command.Txn t, StoreOptions o, java.util.function.Function<String, String[][]> pathsOf) {
        int n = t.ops().size();
        if (n < 1 || n > o.txnOpsMax()) {
            throw new CairnException(ErrorCode.BAD_REQUEST,
                    "A transaction needs 1 to " + o.txnOpsMax() + " ops; this one has " + n + ".");
        }
        Object[] parsed = new Object[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            Op op = t.ops().get(i);
            try {
                name("collection", op.collection());
                if (!(op instanceof Op.Insert && op.key() == null)) key(op.key());
                if (op instanceof Op.Put p) {
                    ifRev(p.ifRev());
                    total += checkSize(p.docJson(), o, "document");
                    parsed[i] = pathsOf == null ? parseObject(p.docJson(), o) : scan(p.docJson(), o, pathsOf.apply(p.collection()));
                } else if (op instanceof Op.Insert p) {
                    total += checkSize(p.docJson(), o, "document");
                    parsed[i] = pathsOf == null ? parseObject(p.docJson(), o) : scan(p.docJson(), o, pathsOf.apply(p.collection()));
                } else if (op instanceof Op.Patch p) {
                    ifRev(p.ifRev());
                    total += checkSize(p.mergePatchJson(), o, "merge patch");
                    parsed[i] = patch(p.mergePatchJson(), o);
                } else if (op instanceof Op.Delete d) {
                    ifRev(d.ifRev());
                } else if (op instanceof Op.Check c) {
                    if (c.rev() < 0) throw new CairnException(ErrorCode.BAD_REQUEST, "A check needs rev >= 0 (0 = must not exist).");
                } else {
                    throw new IllegalStateException("unknown op " + op.getClass().getName());
                }
            } catch (CairnException e) {
                throw withFailedOp(e, i);
            }
            if (total > o.txnBytesMax()) throw withFailedOp(txnTooLarge(o), i);
        }
        return parsed;
    }

    private static Scanned scan(String json, StoreOptions o, String[][] paths) {
        return new Scanned(paths, Json.scan(json, o.nestingDepthMax(), paths));
    }

    private static CairnException txnTooLarge(StoreOptions o) {
        return new CairnException(ErrorCode.PAYLOAD_TOO_LARGE,
                "The documents of a transaction add up to more than " + o.txnBytesMax() + " bytes.");
    }

    private static void ifRev(Long ifRev) {
        if (ifRev != null && ifRev < 0) {
            throw new CairnException(ErrorCode.BAD_REQUEST, "ifRev must be >= 0 (0 = must not exist).");
        }
    }

    /** The same error with detail {@code failedOp} (the 0-based op index) added. */
    public static CairnException withFailedOp(CairnException e, int opIndex) {
        if (e.details().containsKey("failedOp")) return e;
        Map<String, Object> d = new java.util.LinkedHashMap<>(e.details());
        d.put("failedOp", opIndex);
        return new CairnException(e.code(), e.getMessage(), d);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
