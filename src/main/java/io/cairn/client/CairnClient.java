package io.cairn.client;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;

/**
 * The typed in-process client: every call is a request to the {@code cairn.api} event-bus address of
 * a Cairn node running in the same Vert.x instance, with the semantics of the HTTP API. Results are
 * the HTTP bodies as JSON; failures are {@link io.vertx.core.eventbus.ReplyException}s whose
 * {@code failureCode()} is the HTTP status and whose message is the error JSON ({@link #errorCode}
 * extracts the code). Safe to use from any verticle; each call times out after {@code timeoutMillis}.
 */
public final class CairnClient {
    public static final String DEFAULT_ADDRESS = "cairn.api";

    private final Vertx vertx;
    private final String address;
    private final DeliveryOptions options;

    private CairnClient(Vertx vertx, String address, long timeoutMillis) {
        this.vertx = vertx;
        this.address = address;
        this.options = new DeliveryOptions().setSendTimeout(timeoutMillis).setLocalOnly(true);
    }

    public static CairnClient create(Vertx vertx) {
        return new CairnClient(vertx, DEFAULT_ADDRESS, 30_000);
    }

    public static CairnClient create(Vertx vertx, String address, long timeoutMillis) {
        return new CairnClient(vertx, address, timeoutMillis);
    }

    /** Any request of the {@code cairn.api} address; answers with the whole reply message. */
    public Future<Message<JsonObject>> send(JsonObject request) {
        return vertx.eventBus().request(address, request, options);
    }

    private Future<JsonObject> call(JsonObject request) {
        return send(request).map(Message::body);
    }

    /** The error code of a failed call ({@code not_found}, {@code precondition_failed}, ...), or null. */
    public static String errorCode(Throwable failure) {
        try {
            return new JsonObject(failure.getMessage()).getJsonObject("error").getString("code");
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ---- documents

    /** The document; fails with {@code not_found} when missing. {@code consistency}: null for linearizable. */
    public Future<JsonObject> get(String collection, String key, String consistency) {
        return call(new JsonObject().put("op", "get").put("collection", collection).put("key", key).put("consistency", consistency));
    }

    public Future<JsonObject> get(String collection, String key) {
        return get(collection, key, null);
    }

    /** Creates or replaces; answers {@code {"key","rev"}}. {@code ifRev}: null none, 0 must not exist, N must be at N. */
    public Future<JsonObject> put(String collection, String key, JsonObject doc, Long ifRev) {
        return call(new JsonObject().put("op", "put").put("collection", collection).put("key", key).put("doc", doc).put("ifRev", ifRev));
    }

    public Future<JsonObject> put(String collection, String key, JsonObject doc) {
        return put(collection, key, doc, null);
    }

    /** Creates under a key the cluster makes; answers {@code {"key","rev"}}. */
    public Future<JsonObject> insert(String collection, JsonObject doc) {
        return call(new JsonObject().put("op", "insert").put("collection", collection).put("doc", doc));
    }

    /** JSON merge patch (RFC 7396) of an existing document. */
    public Future<JsonObject> patch(String collection, String key, JsonObject patch, Long ifRev) {
        return call(new JsonObject().put("op", "patch").put("collection", collection).put("key", key).put("patch", patch).put("ifRev", ifRev));
    }

    /** Deletes; answers the revision of the delete. */
    public Future<Long> delete(String collection, String key, Long ifRev) {
        return send(new JsonObject().put("op", "delete").put("collection", collection).put("key", key).put("ifRev", ifRev))
                .map(m -> Long.parseLong(m.headers().get("rev")));
    }

    /** A page in key order: {@code {"docs": [...], "next"}}. {@code prefix} and {@code after} may be null. */
    public Future<JsonObject> list(String collection, String prefix, String after, int limit) {
        return call(new JsonObject().put("op", "list").put("collection", collection).put("prefix", prefix).put("after", after)
                .put("limit", limit));
    }

    /** An index query, the body of {@code POST /v1/collections/{c}/query}. */
    public Future<JsonObject> query(String collection, JsonObject query) {
        return call(new JsonObject().put("op", "query").put("collection", collection).put("query", query));
    }

    /** An atomic transaction of {@code ops} (as in {@code POST /v1/txn}); answers {@code {"rev","results"}}. */
    public Future<JsonObject> txn(JsonArray ops) {
        return call(new JsonObject().put("op", "txn").put("ops", ops));
    }

    // ---- catalog

    public Future<JsonObject> createCollection(String collection, JsonArray indexes) {
        JsonObject r = new JsonObject().put("op", "createCollection").put("collection", collection);
        if (indexes != null) r.put("indexes", indexes);
        return call(r);
    }

    public Future<JsonObject> getCollection(String collection) {
        return call(new JsonObject().put("op", "getCollection").put("collection", collection));
    }

    public Future<JsonObject> listCollections() {
        return call(new JsonObject().put("op", "listCollections"));
    }

    public Future<Void> dropCollection(String collection) {
        return call(new JsonObject().put("op", "dropCollection").put("collection", collection)).mapEmpty();
    }

    public Future<JsonObject> createIndex(String collection, String index, JsonArray fields, boolean unique) {
        return call(new JsonObject().put("op", "createIndex").put("collection", collection).put("index", index)
                .put("fields", fields).put("unique", unique));
    }

    public Future<Void> dropIndex(String collection, String index) {
        return call(new JsonObject().put("op", "dropIndex").put("collection", collection).put("index", index)).mapEmpty();
    }

    public Future<JsonObject> cluster() {
        return call(new JsonObject().put("op", "cluster"));
    }

    // ---- change streams

    /**
     * The changes with rev > {@code after} (null: from now) as a {@link ReadStream} of change objects
     * ({@code {"type":"change","rev","op","collection","key","doc"}}), with the resume semantics of
     * the WebSocket stream: keep the rev of the last change you processed and open a new stream with
     * it. The stream pulls pages only while it has demand, so a paused consumer holds no backlog.
     * It ends with an exception on {@code compacted} (the code is in the failure's JSON message).
     * {@code collection} and {@code key} may be null.
     */
    public ReadStream<JsonObject> changes(Long after, String collection, String key, boolean prev) {
        return new ChangeReadStream(this, after, collection, key, prev);
    }
}
