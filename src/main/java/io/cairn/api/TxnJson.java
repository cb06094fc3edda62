package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.cairn.store.IndexSpec;
import io.cairn.store.Json;
import io.cairn.store.Op;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the bodies of {@code POST /v1/txn} and the catalog requests from parsed JSON (the store's
 * {@link Json} model: Map, List, String, numbers, Boolean, null). Every shape error is a
 * {@code bad_request} that names the op or field.
 */
final class TxnJson {
    private TxnJson() {}

    /** {@code {"ops": [...]}} into store ops; documents are re-written as canonical JSON text. */
    static List<Op> ops(Object body) {
        Map<String, Object> m = object(body, "the transaction body");
        Object ops = m.get("ops");
        if (!(ops instanceof List<?> list) || list.isEmpty()) {
            throw bad("a transaction needs a non-empty array 'ops'");
        }
        List<Op> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            try {
                out.add(op(object(list.get(i), "op " + i)));
            } catch (CairnException e) {
                Map<String, Object> details = new java.util.LinkedHashMap<>(e.details());
                details.put("failedOp", i);
                throw new CairnException(e.code(), "op " + i + ": " + e.getMessage(), details);
            }
        }
        return out;
    }

    private static Op op(Map<String, Object> o) {
        String kind = string(o, "op", true);
        String c = string(o, "collection", true);
        return switch (kind) {
            case "put" -> new Op.Put(c, string(o, "key", true), Json.write(object(o.get("doc"), "'doc'")), rev(o, "ifRev", false));
            case "insert" -> new Op.Insert(c, null, Json.write(object(o.get("doc"), "'doc'")));
            case "patch" -> new Op.Patch(c, string(o, "key", true), Json.write(object(o.get("patch"), "'patch'")),
                    rev(o, "ifRev", false));
            case "delete" -> new Op.Delete(c, string(o, "key", true), rev(o, "ifRev", false));
            case "check" -> new Op.Check(c, string(o, "key", true), rev(o, "rev", true));
            default -> throw bad("'op' must be put, insert, patch, delete or check, not '" + kind + "'");
        };
    }

    /** {@code {"indexes": [{"name","fields","unique"}]}} of {@code PUT /v1/collections/{c}}. */
    static List<IndexSpec> indexes(Object body) {
        Map<String, Object> m = object(body, "the collection body");
        Object v = m.get("indexes");
        if (v == null) return List.of();
        if (!(v instanceof List<?> list)) throw bad("'indexes' must be an array");
        List<IndexSpec> out = new ArrayList<>();
        for (Object o : list) {
            Map<String, Object> spec = object(o, "an index");
            out.add(index(string(spec, "name", true), spec));
        }
        return out;
    }

    /** {@code {"fields": [...], "unique": false}} of {@code PUT .../indexes/{i}}. */
    static IndexSpec index(String name, Object body) {
        return index(name, object(body, "the index body"));
    }

    private static IndexSpec index(String name, Map<String, Object> spec) {
        Object f = spec.get("fields");
        if (!(f instanceof List<?> fl) || fl.isEmpty()) throw bad("index '" + name + "' needs a non-empty array 'fields'");
        List<String> fields = new ArrayList<>();
        for (Object x : fl) {
            if (!(x instanceof String s)) throw bad("index fields must be strings (dotted paths)");
            fields.add(s);
        }
        Object u = spec.getOrDefault("unique", Boolean.FALSE);
        if (!(u instanceof Boolean unique)) throw bad("'unique' must be true or false");
        return new IndexSpec(name, fields, unique);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v, String what) {
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw bad(what + " must be a JSON object");
    }

    private static String string(Map<String, Object> o, String field, boolean required) {
        Object v = o.get(field);
        if (v instanceof String s) return s;
        if (v == null && !required) return null;
        throw bad("'" + field + "' must be a string");
    }

    private static Long rev(Map<String, Object> o, String field, boolean required) {
        Object v = o.get(field);
        if (v == null) {
            if (required) throw bad("'" + field + "' is required");
            return null;
        }
        BigInteger n = null;
        if (v instanceof Long || v instanceof Integer) n = BigInteger.valueOf(((Number) v).longValue());
        else if (v instanceof BigInteger b) n = b;
        else if (v instanceof BigDecimal d && d.stripTrailingZeros().scale() <= 0) n = d.toBigInteger();
        if (n == null || n.signum() < 0 || n.bitLength() > 62) {
            throw bad("'" + field + "' must be a revision (a whole number >= 0)");
        }
        return n.longValue();
    }

    private static CairnException bad(String message) {
        return new CairnException(ErrorCode.BAD_REQUEST, message);
    }
}
