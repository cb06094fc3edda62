package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code cairn.api} event-bus address (API.md, "Event bus"): a JSON request
 * {@code {"op": ..., ...}} (see {@link ApiJson}, plus {@code "changes"} for a long-poll page)
 * gets the same answer as over HTTP. A success replies with the HTTP body as a JSON object
 * ({@code {}} for a 204) and the headers {@code status}, {@code rev} and {@code etag}; a failure is a
 * {@code ReplyException} whose {@code failureCode()} is the HTTP status and whose message is the
 * error JSON.
 */
public final class EventBusApi {
    public static final String ADDRESS = "cairn.api";
    private static final Logger log = LoggerFactory.getLogger(EventBusApi.class);

    private final RequestHandler handler;
    private final ChangeStreams changes;

    public EventBusApi(RequestHandler handler, ChangeStreams changes) {
        this.handler = handler;
        this.changes = changes;
    }

    /** Registers the consumer on the caller's context (local to this Vert.x instance). */
    public MessageConsumer<Object> register(Vertx vertx, String address) {
        return vertx.eventBus().localConsumer(address, this::serve);
    }

    private void serve(Message<Object> msg) {
        Future<ApiResponse> answer;
        try {
            if (!(msg.body() instanceof JsonObject body)) {
                throw new CairnException(ErrorCode.BAD_REQUEST, "a cairn.api request is a JSON object with an 'op'");
            }
            answer = "changes".equals(body.getValue("op")) ? changes(body) : handler.handle(ApiJson.fromJson(body));
        } catch (CairnException e) {
            answer = Future.failedFuture(e);
        }
        answer.onComplete(ar -> {
            if (ar.succeeded()) reply(msg, ar.result());
            else fail(msg, ar.cause());
        });
    }

    private Future<ApiResponse> changes(JsonObject b) {
        Object after = b.getValue("after");
        if (after != null && !(after instanceof Number)) throw new CairnException(ErrorCode.BAD_REQUEST, "'after' must be a number");
        return changes.poll(after == null ? null : ((Number) after).longValue(), intOf(b, "limit", 100), intOf(b, "waitMs", 0),
                b.getString("collection"), b.getString("key"), Boolean.TRUE.equals(b.getValue("prev")));
    }

    private static int intOf(JsonObject b, String field, int dflt) {
        Object v = b.getValue(field);
        if (v == null) return dflt;
        if (v instanceof Number n) return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n.longValue()));
        throw new CairnException(ErrorCode.BAD_REQUEST, "'" + field + "' must be a number");
    }

    private static void reply(Message<Object> msg, ApiResponse r) {
        DeliveryOptions o = new DeliveryOptions().addHeader("status", Integer.toString(r.status()))
                .addHeader("rev", Long.toString(r.rev()));
        if (r.etag() != null) o.addHeader("etag", r.etag());
        JsonObject body;
        try {
            body = r.bodyJson() == null ? new JsonObject() : new JsonObject(r.bodyJson());
        } catch (RuntimeException e) {
            // a stored document with numbers Vert.x cannot hold (e.g. 1e400): give the text as it is
            body = new JsonObject().put("json", r.bodyJson());
        }
        msg.reply(body, o);
    }

    private static void fail(Message<Object> msg, Throwable cause) {
        CairnException e;
        if (cause instanceof CairnException ce) {
            e = ce;
        } else {
            log.error("cairn.api request failed", cause);
            e = new CairnException(ErrorCode.INTERNAL, "the server failed: " + cause.getClass().getSimpleName());
        }
        msg.fail(e.code().httpStatus(), Errors.body(e).encode());
    }
}
