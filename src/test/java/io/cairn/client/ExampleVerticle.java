package io.cairn.client;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What an application verticle looks like when it embeds Cairn: it talks to the node through
 * {@link CairnClient}, with Futures. Started by {@code CairnClientTest}; the README quotes it.
 */
public final class ExampleVerticle extends VerticleBase {
    /** What the verticle saw, for the test to compare with HTTP. */
    public final JsonObject seen = new JsonObject();

    @Override
    public Future<?> start() {
        CairnClient cairn = CairnClient.create(vertx);
        return cairn.createCollection("orders", new JsonArray().add(new JsonObject()
                        .put("name", "by_total").put("fields", new JsonArray().add("total")).put("unique", false)))
                .compose(v -> cairn.put("orders", "o1", new JsonObject().put("total", 30).put("customer", "ann")))
                .compose(put -> {
                    seen.put("put", put);
                    return cairn.insert("orders", new JsonObject().put("total", 12));
                })
                .compose(inserted -> {
                    seen.put("insert", inserted);
                    return cairn.get("orders", "o1");
                })
                .compose(doc -> {
                    seen.put("get", doc);
                    return cairn.query("orders", new JsonObject().put("index", "by_total").put("range",
                            new JsonObject().put("gte", new JsonArray().add(10))));
                })
                .compose(page -> {
                    seen.put("query", page);
                    return cairn.put("orders", "o1", new JsonObject(), 1L).recover(e -> {
                        seen.put("staleWrite", CairnClient.errorCode(e));
                        return Future.succeededFuture();
                    });
                })
                .compose(v -> cairn.get("orders", "nope").recover(e -> {
                    seen.put("missing", CairnClient.errorCode(e));
                    return Future.succeededFuture();
                }))
                .compose(v -> cairn.txn(new JsonArray()
                        .add(new JsonObject().put("op", "patch").put("collection", "orders").put("key", "o1")
                                .put("patch", new JsonObject().put("paid", true)))
                        .add(new JsonObject().put("op", "check").put("collection", "orders").put("key", "o9").put("rev", 5))))
                .recover(e -> {
                    seen.put("txn", CairnClient.errorCode(e));
                    return Future.succeededFuture();
                })
                .compose(v -> cairn.delete("orders", "o1", null))
                .onSuccess(rev -> seen.put("deleteRev", rev));
    }
}
