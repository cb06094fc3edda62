package io.cairn.fault;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory, single-node stand-in for Cairn's HTTP API (the subset the {@link Workload} and
 * {@link ChangeSubscriber} use), linearizable by construction: every request runs on one event
 * loop. It lets the harness be tested before the real node exists, and it can misbehave on
 * command to prove the checkers catch it: stale reads, a change left out of the stream, writes
 * answered 504 after they applied, streams cut every few frames.
 */
public final class FakeCairn {
    private record Doc(JsonObject doc, long rev) {}

    private record Sub(ServerWebSocket ws, String collection, String key) {}

    private final Vertx vertx;
    private final Context context;
    private final Map<String, Doc> docs = new HashMap<>();
    private final Map<String, Doc> previous = new HashMap<>(); // for stale reads
    private final List<JsonObject> history = new ArrayList<>();
    private final Set<Sub> subs = new HashSet<>();
    private HttpServer server;
    private long rev;
    private long writes;
    private long framesSent;
    private long periodic = -1;

    /** Serve the version before the last write of a key (a stale replica). */
    public volatile boolean staleReads;
    /** Leave the change at this rev out of every WebSocket stream (0: none). */
    public volatile long dropStreamRev;
    /** Answer every n-th write 504 after applying it (0: never): an unknown outcome. */
    public volatile int unknownEvery;
    /** Close each WebSocket after this many frames (0: never): forces resumes. */
    public volatile int closeStreamEvery;

    private FakeCairn(Vertx vertx) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
    }

    public static Future<FakeCairn> start(Vertx vertx) {
        FakeCairn fake = new FakeCairn(vertx);
        Promise<FakeCairn> promise = Promise.promise();
        fake.context.runOnContext(v -> {
            fake.server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
            fake.server.webSocketHandler(fake::subscribe);
            fake.server.requestHandler(fake::handle);
            fake.server.listen().onSuccess(s -> fake.periodic = vertx.setPeriodic(50, id -> fake.progress()))
                    .map(fake).onComplete(promise);
        });
        return promise.future();
    }

    public String address() {
        return "127.0.0.1:" + server.actualPort();
    }

    public void close() throws Exception {
        Promise<Void> p = Promise.promise();
        context.runOnContext(v -> {
            vertx.cancelTimer(periodic);
            server.close().onComplete(p);
        });
        p.future().await(10, TimeUnit.SECONDS);
    }

    // ---- HTTP

    private void handle(HttpServerRequest req) {
        req.body().onSuccess(body -> {
            try {
                route(req, body);
            } catch (RuntimeException e) {
                error(req, 400, "bad_request", String.valueOf(e.getMessage()));
            }
        });
    }

    private void route(HttpServerRequest req, Buffer body) {
        String[] p = req.path().split("/", -1); // "", "v1", ...
        String method = req.method().name();
        if (p.length == 4 && p[2].equals("collections")) {
            json(req, 201, new JsonObject().put("name", p[3]));
        } else if (p.length == 6 && p[2].equals("collections") && p[4].equals("docs")) {
            String key = p[3] + "/" + URLDecoder.decode(p[5], StandardCharsets.UTF_8);
            switch (method) {
                case "GET" -> get(req, key);
                case "PUT" -> put(req, key, body.toJsonObject());
                case "DELETE" -> delete(req, key);
                default -> error(req, 405, "method_not_allowed", method);
            }
        } else if (req.path().equals("/v1/txn") && method.equals("POST")) {
            txn(req, body.toJsonObject());
        } else if (req.path().equals("/v1/changes") && method.equals("GET")) {
            longPoll(req);
        } else {
            error(req, 404, "not_found", req.path());
        }
    }

    private void get(HttpServerRequest req, String key) {
        Doc d = staleReads && previous.containsKey(key) ? previous.get(key) : docs.get(key);
        req.response().putHeader("X-Cairn-Rev", Long.toString(rev));
        if (d == null) {
            error(req, 404, "not_found", key);
            return;
        }
        req.response().putHeader("ETag", "\"" + d.rev() + "\"");
        json(req, 200, d.doc());
    }

    private void put(HttpServerRequest req, String key, JsonObject doc) {
        Doc d = docs.get(key);
        String ifMatch = req.getHeader("If-Match");
        if (ifMatch != null && (d == null || d.rev() != Long.parseLong(ifMatch.replace("\"", "")))) {
            error(req, 412, "precondition_failed", "If-Match");
            return;
        }
        if ("*".equals(req.getHeader("If-None-Match")) && d != null) {
            error(req, 412, "precondition_failed", "If-None-Match");
            return;
        }
        long at = ++rev;
        apply(at, key, doc, 0);
        answerWrite(req, d == null ? 201 : 200, new JsonObject().put("key", key.substring(key.indexOf('/') + 1)).put("rev", at));
    }

    private void delete(HttpServerRequest req, String key) {
        Doc d = docs.get(key);
        if (d == null) {
            req.response().putHeader("X-Cairn-Rev", Long.toString(rev));
            error(req, 404, "not_found", key);
            return;
        }
        String ifMatch = req.getHeader("If-Match");
        if (ifMatch != null && d.rev() != Long.parseLong(ifMatch.replace("\"", ""))) {
            error(req, 412, "precondition_failed", "If-Match");
            return;
        }
        long at = ++rev;
        apply(at, key, null, 0);
        req.response().putHeader("X-Cairn-Rev", Long.toString(at));
        answerWrite(req, 204, null);
    }

    private void txn(HttpServerRequest req, JsonObject body) {
        JsonArray ops = body.getJsonArray("ops");
        for (int i = 0; i < ops.size(); i++) {
            JsonObject op = ops.getJsonObject(i);
            Doc d = docs.get(op.getString("collection") + "/" + op.getString("key"));
            Long expected = op.getString("op").equals("check") ? op.getLong("rev") : op.getLong("ifRev");
            boolean holds = expected == null || (expected == 0 ? d == null : d != null && d.rev() == expected);
            if (!holds) {
                json(req, 412, new JsonObject().put("error", new JsonObject().put("code", "precondition_failed")
                        .put("message", "op " + i + " failed its condition").put("failedOp", i)));
                return;
            }
            if (op.getString("op").equals("delete") && d == null) {
                json(req, 404, new JsonObject().put("error", new JsonObject().put("code", "not_found")
                        .put("message", "op " + i + " deletes a missing document").put("failedOp", i)));
                return;
            }
        }
        long at = ++rev;
        JsonArray results = new JsonArray();
        int seq = 0;
        for (int i = 0; i < ops.size(); i++) {
            JsonObject op = ops.getJsonObject(i);
            String key = op.getString("collection") + "/" + op.getString("key");
            switch (op.getString("op")) {
                case "put" -> apply(at, key, op.getJsonObject("doc"), seq++);
                case "delete" -> {
                    if (docs.containsKey(key)) apply(at, key, null, seq++);
                }
                default -> { }
            }
            results.add(new JsonObject().put("key", op.getString("key")).put("rev", at));
        }
        answerWrite(req, 200, new JsonObject().put("rev", at).put("results", results));
    }

    private void apply(long at, String key, JsonObject doc, int seq) {
        Doc before = docs.get(key);
        if (before != null) previous.put(key, before);
        if (doc == null) docs.remove(key);
        else docs.put(key, new Doc(doc, at));
        int slash = key.indexOf('/');
        JsonObject change = new JsonObject().put("type", "change").put("rev", at).put("op", doc == null ? "delete" : "put")
                .put("collection", key.substring(0, slash)).put("key", key.substring(slash + 1)).put("doc", doc);
        history.add(change);
        for (Sub s : new ArrayList<>(subs)) send(s, change);
    }

    private void answerWrite(HttpServerRequest req, int status, JsonObject body) {
        writes++;
        if (unknownEvery > 0 && writes % unknownEvery == 0) {
            error(req, 504, "timeout", "applied, but answered as if it may not have been (test fault)");
        } else if (body == null) {
            req.response().setStatusCode(status).end();
        } else {
            json(req, status, body);
        }
    }

    private void longPoll(HttpServerRequest req) {
        long after = Long.parseLong(req.getParam("after", "0"));
        int limit = Integer.parseInt(req.getParam("limit", "1000"));
        JsonArray out = new JsonArray();
        long last = after;
        for (JsonObject c : history) {
            long r = c.getLong("rev");
            if (r <= after) continue;
            if (out.size() >= limit && r != last) break; // never split a rev
            out.add(c);
            last = r;
        }
        json(req, 200, new JsonObject().put("changes", out).put("rev", out.isEmpty() ? Math.max(after, rev) : last));
    }

    private static void json(HttpServerRequest req, int status, JsonObject body) {
        req.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }

    private static void error(HttpServerRequest req, int status, String code, String message) {
        json(req, status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)));
    }

    // ---- change streams

    private void subscribe(ServerWebSocket ws) {
        if (!ws.path().equals("/v1/changes")) {
            ws.close((short) 4404);
            return;
        }
        Map<String, String> q = new HashMap<>();
        if (ws.query() != null) {
            for (String kv : ws.query().split("&")) {
                int eq = kv.indexOf('=');
                q.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        Sub sub = new Sub(ws, q.get("collection"), q.get("key"));
        ws.closeHandler(v -> subs.remove(sub));
        if (q.containsKey("after")) {
            long after = Long.parseLong(q.get("after"));
            for (JsonObject c : history) {
                if (c.getLong("rev") > after) send(sub, c);
            }
        }
        if (!ws.isClosed()) subs.add(sub);
    }

    private void send(Sub s, JsonObject change) {
        if (s.ws().isClosed()) return;
        if (s.collection() != null && !s.collection().equals(change.getString("collection"))) return;
        if (s.key() != null && !s.key().equals(change.getString("key"))) return;
        if (dropStreamRev > 0 && change.getLong("rev") == dropStreamRev) return;
        frame(s, change.encode());
    }

    private void progress() {
        String p = new JsonObject().put("type", "progress").put("rev", rev).encode();
        for (Sub s : new ArrayList<>(subs)) {
            if (!s.ws().isClosed()) frame(s, p);
        }
    }

    private void frame(Sub s, String text) {
        s.ws().writeTextMessage(text);
        framesSent++;
        if (closeStreamEvery > 0 && framesSent % closeStreamEvery == 0) {
            subs.remove(s);
            s.ws().close();
        }
    }
}
