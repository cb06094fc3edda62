package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@link ApiRequest}s as JSON: the body of the {@code cairn.api} event-bus address (API.md, "Event
 * bus") and the form in which a follower forwards a write to the leader. Bodies may be given as JSON
 * values ({@code doc}, {@code patch}, {@code ops}, {@code indexes}, {@code query}) or, to keep the
 * exact text, as strings ({@code docJson}, {@code patchJson}, {@code bodyJson}, {@code queryJson});
 * {@link #toJson} always writes the string form.
 */
public final class ApiJson {
    private ApiJson() {}

    public static JsonObject toJson(ApiRequest request) {
        JsonObject j = new JsonObject();
        if (request instanceof ApiRequest.GetDoc r) {
            read(j.put("op", "get").put("collection", r.collection()).put("key", r.key()), r.read());
        } else if (request instanceof ApiRequest.ListDocs r) {
            read(j.put("op", "list").put("collection", r.collection()).put("prefix", r.prefix())
                        .put("after", r.after()).put("limit", r.limit()), r.read());
        } else if (request instanceof ApiRequest.PutDoc r) {
            j.put("op", "put").put("collection", r.collection()).put("key", r.key())
                        .put("docJson", r.docJson()).put("ifRev", r.ifRev());
        } else if (request instanceof ApiRequest.InsertDoc r) {
            j.put("op", "insert").put("collection", r.collection()).put("docJson", r.docJson());
        } else if (request instanceof ApiRequest.PatchDoc r) {
            j.put("op", "patch").put("collection", r.collection()).put("key", r.key())
                        .put("patchJson", r.patchJson()).put("ifRev", r.ifRev());
        } else if (request instanceof ApiRequest.DeleteDoc r) {
            j.put("op", "delete").put("collection", r.collection()).put("key", r.key())
                        .put("ifRev", r.ifRev());
        } else if (request instanceof ApiRequest.Query r) {
            read(j.put("op", "query").put("collection", r.collection()).put("queryJson", r.queryJson()), r.read());
        } else if (request instanceof ApiRequest.Txn r) {
            j.put("op", "txn").put("bodyJson", r.bodyJson());
        } else if (request instanceof ApiRequest.PutCollection r) {
            j.put("op", "createCollection").put("collection", r.collection()).put("bodyJson", r.bodyJson());
        } else if (request instanceof ApiRequest.GetCollection r) {
            read(j.put("op", "getCollection").put("collection", r.collection()), r.read());
        } else if (request instanceof ApiRequest.ListCollections r) {
            read(j.put("op", "listCollections"), r.read());
        } else if (request instanceof ApiRequest.DropCollection r) {
            j.put("op", "dropCollection").put("collection", r.collection());
        } else if (request instanceof ApiRequest.PutIndex r) {
            j.put("op", "createIndex").put("collection", r.collection()).put("index", r.index())
                        .put("bodyJson", r.bodyJson());
        } else if (request instanceof ApiRequest.ListIndexes r) {
            read(j.put("op", "listIndexes").put("collection", r.collection()), r.read());
        } else if (request instanceof ApiRequest.DropIndex r) {
            j.put("op", "dropIndex").put("collection", r.collection()).put("index", r.index());
        } else if (request instanceof ApiRequest.ClusterStatus) {
            j.put("op", "cluster");
        } else if (request instanceof ApiRequest.AddMember r) {
            j.put("op", "addMember").put("id", r.id()).put("raftAddress", r.raftAddress()).put("httpAddress", r.httpAddress());
        } else if (request instanceof ApiRequest.RemoveMember r) {
            j.put("op", "removeMember").put("id", r.id());
        } else if (request instanceof ApiRequest.TransferLeader r) {
            j.put("op", "transferLeader").put("to", r.to());
        } else if (request instanceof ApiRequest.Snapshot) {
            j.put("op", "snapshot");
        } else {
            throw new IllegalArgumentException("unknown request " + request);
        }
        return j;
    }

    private static JsonObject read(JsonObject j, ReadOptions read) {
        return j.put("consistency", read.consistency().name().toLowerCase(java.util.Locale.ROOT)).put("minRev", read.minRev());
    }

    /** Parses a request; throws {@link CairnException} ({@code bad_request}) naming what is wrong. */
    public static ApiRequest fromJson(JsonObject j) {
        String op = string(j, "op", true);
        return switch (op) {
            case "get" -> new ApiRequest.GetDoc(string(j, "collection", true), string(j, "key", true), readOptions(j));
            case "list" -> new ApiRequest.ListDocs(string(j, "collection", true), string(j, "prefix", false),
                    string(j, "after", false), (int) number(j, "limit", 100, 1, 10_000), readOptions(j));
            case "put" -> new ApiRequest.PutDoc(string(j, "collection", true), string(j, "key", true), body(j, "doc", "docJson", true),
                    optionalRev(j));
            case "insert" -> new ApiRequest.InsertDoc(string(j, "collection", true), body(j, "doc", "docJson", true));
            case "patch" -> new ApiRequest.PatchDoc(string(j, "collection", true), string(j, "key", true),
                    body(j, "patch", "patchJson", true), optionalRev(j));
            case "delete" -> new ApiRequest.DeleteDoc(string(j, "collection", true), string(j, "key", true), optionalRev(j));
            case "query" -> new ApiRequest.Query(string(j, "collection", true), body(j, "query", "queryJson", true), readOptions(j));
            case "txn" -> new ApiRequest.Txn(j.containsKey("bodyJson") ? string(j, "bodyJson", true)
                    : new JsonObject().put("ops", array(j, "ops")).encode());
            case "createCollection" -> new ApiRequest.PutCollection(string(j, "collection", true), collectionBody(j));
            case "getCollection" -> new ApiRequest.GetCollection(string(j, "collection", true), readOptions(j));
            case "listCollections" -> new ApiRequest.ListCollections(readOptions(j));
            case "dropCollection" -> new ApiRequest.DropCollection(string(j, "collection", true));
            case "createIndex" -> new ApiRequest.PutIndex(string(j, "collection", true), string(j, "index", true), indexBody(j));
            case "listIndexes" -> new ApiRequest.ListIndexes(string(j, "collection", true), readOptions(j));
            case "dropIndex" -> new ApiRequest.DropIndex(string(j, "collection", true), string(j, "index", true));
            case "cluster" -> new ApiRequest.ClusterStatus();
            case "addMember" -> new ApiRequest.AddMember(string(j, "id", true), string(j, "raftAddress", true),
                    string(j, "httpAddress", true));
            case "removeMember" -> new ApiRequest.RemoveMember(string(j, "id", true));
            case "transferLeader" -> new ApiRequest.TransferLeader(string(j, "to", true));
            case "snapshot" -> new ApiRequest.Snapshot();
            default -> throw bad("unknown op '" + op + "'");
        };
    }

    private static String collectionBody(JsonObject j) {
        if (j.containsKey("bodyJson")) return string(j, "bodyJson", false);
        if (!j.containsKey("indexes")) return null;
        return new JsonObject().put("indexes", array(j, "indexes")).encode();
    }

    private static String indexBody(JsonObject j) {
        if (j.containsKey("bodyJson")) return string(j, "bodyJson", true);
        JsonObject b = new JsonObject().put("fields", array(j, "fields"));
        if (j.containsKey("unique")) b.put("unique", j.getValue("unique"));
        return b.encode();
    }

    private static ReadOptions readOptions(JsonObject j) {
        return new ReadOptions(Consistency.parse(string(j, "consistency", false)), number(j, "minRev", 0, 0, Long.MAX_VALUE));
    }

    private static Long optionalRev(JsonObject j) {
        if (j.getValue("ifRev") == null) return null;
        return number(j, "ifRev", 0, 0, Long.MAX_VALUE);
    }

    private static String body(JsonObject j, String valueField, String textField, boolean required) {
        Object text = j.getValue(textField);
        if (text instanceof String s) return s;
        Object v = j.getValue(valueField);
        if (v instanceof JsonObject o) return o.encode();
        if (v == null && !required) return null;
        throw bad("'" + valueField + "' must be a JSON object");
    }

    private static JsonArray array(JsonObject j, String field) {
        Object v = j.getValue(field);
        if (v instanceof JsonArray a) return a;
        throw bad("'" + field + "' must be an array");
    }

    private static String string(JsonObject j, String field, boolean required) {
        Object v = j.getValue(field);
        if (v instanceof String s) return s;
        if (v == null && !required) return null;
        throw bad("'" + field + "' must be a string");
    }

    private static long number(JsonObject j, String field, long dflt, long min, long max) {
        Object v = j.getValue(field);
        if (v == null) return dflt;
        if (v instanceof Number n && n.longValue() >= min && n.longValue() <= max && n.doubleValue() == n.longValue()) {
            return n.longValue();
        }
        throw bad("'" + field + "' must be a whole number in " + min + ".." + max);
    }

    private static CairnException bad(String message) {
        return new CairnException(ErrorCode.BAD_REQUEST, message);
    }
}
