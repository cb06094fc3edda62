package io.cairn.client;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayDeque;

/**
 * A change stream over the event bus: long-poll pages ({@code op: "changes"}) fetched one at a time
 * while there is demand. At most one page (bounded by {@link #PAGE_LIMIT}) is held in memory.
 * Not thread-safe: use it from the context that created it, as any Vert.x stream.
 */
final class ChangeReadStream implements ReadStream<JsonObject> {
    static final int PAGE_LIMIT = 500;
    static final int WAIT_MILLIS = 10_000;

    private final CairnClient client;
    private final String collection;
    private final String key;
    private final boolean prev;
    private final ArrayDeque<JsonObject> buffered = new ArrayDeque<>();
    private Long cursor;
    private long demand = Long.MAX_VALUE;
    private boolean fetching;
    private boolean ended;
    private Handler<JsonObject> handler;
    private Handler<Throwable> exceptionHandler;
    private Handler<Void> endHandler;

    ChangeReadStream(CairnClient client, Long after, String collection, String key, boolean prev) {
        this.client = client;
        this.cursor = after;
        this.collection = collection;
        this.key = key;
        this.prev = prev;
    }

    @Override
    public ReadStream<JsonObject> exceptionHandler(Handler<Throwable> h) {
        this.exceptionHandler = h;
        return this;
    }

    @Override
    public ReadStream<JsonObject> handler(Handler<JsonObject> h) {
        this.handler = h;
        if (h == null) {
            ended = true;
        } else {
            drain();
        }
        return this;
    }

    @Override
    public ReadStream<JsonObject> pause() {
        demand = 0;
        return this;
    }

    @Override
    public ReadStream<JsonObject> resume() {
        return fetch(Long.MAX_VALUE);
    }

    @Override
    public ReadStream<JsonObject> fetch(long amount) {
        demand = Math.min(Long.MAX_VALUE, demand + amount < 0 ? Long.MAX_VALUE : demand + amount);
        drain();
        return this;
    }

    @Override
    public ReadStream<JsonObject> endHandler(Handler<Void> h) {
        this.endHandler = h;
        return this;
    }

    private void drain() {
        while (!ended && handler != null && demand > 0 && !buffered.isEmpty()) {
            if (demand != Long.MAX_VALUE) demand--;
            handler.handle(buffered.poll());
        }
        if (!ended && handler != null && demand > 0 && buffered.isEmpty() && !fetching) fetchPage();
    }

    private void fetchPage() {
        fetching = true;
        JsonObject req = new JsonObject().put("op", "changes").put("after", cursor).put("limit", PAGE_LIMIT)
                .put("waitMs", WAIT_MILLIS).put("collection", collection).put("key", key).put("prev", prev);
        client.send(req).onComplete(ar -> {
            fetching = false;
            if (ended) return;
            if (ar.failed()) {
                ended = true;
                if (exceptionHandler != null) exceptionHandler.handle(ar.cause());
                if (endHandler != null) endHandler.handle(null);
                return;
            }
            JsonObject page = ar.result().body();
            JsonArray changes = page.getJsonArray("changes", new JsonArray());
            for (Object o : changes) buffered.add((JsonObject) o);
            cursor = page.getLong("rev");
            drain();
        });
    }
}
