package io.cairn.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.cairn.node.CairnNode;
import io.cairn.node.ForwardCodec;
import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import io.cairn.raft.MembershipChange;
import io.cairn.raft.Role;
import io.cairn.raft.Status;
import io.cairn.store.ApplyResult;
import io.cairn.store.CairnException;
import io.cairn.store.CollectionInfo;
import io.cairn.store.Command;
import io.cairn.store.DocPage;
import io.cairn.store.Document;
import io.cairn.store.ErrorCode;
import io.cairn.store.IndexSpec;
import io.cairn.store.Json;
import io.cairn.store.Op;
import io.cairn.store.Query;
import io.cairn.store.Validation;
import io.cairn.store.Versioned;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Serves {@link ApiRequest}s on one node: writes are validated, turned into store commands and
 * proposed on the leader (a follower forwards them over the peer link); reads wait for the barrier
 * their consistency asks for and then run on the local store. Called on an event loop; the Futures
 * it returns complete there.
 */
public final class RequestHandler {
    /** Depth bound for request bodies that are not documents (txn, catalog, query). */
    private static final int BODY_DEPTH_MAX = 80;

    private final CairnNode node;
    private final Metrics metrics;

    public RequestHandler(CairnNode node, Metrics metrics) {
        this.node = node;
        this.metrics = metrics;
    }

    public Future<ApiResponse> handle(ApiRequest req) {
        try {
            return req.isWrite() ? write(req) : read(req);
        } catch (CairnException e) {
            return Future.failedFuture(e);
        }
    }

    /** Serves a request another node forwarded here (JSON in, JSON out; never forwards again). */
    public Future<byte[]> serveForwarded(byte[] json) {
        ApiRequest req;
        try {
            req = ApiJson.fromJson(new JsonObject(new String(json, StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            return Future.succeededFuture(ForwardCodec.error(e instanceof CairnException ? e
                    : new CairnException(ErrorCode.BAD_REQUEST, "unreadable forwarded request")));
        }
        Future<ApiResponse> answer;
        if (!req.isWrite()) {
            answer = Future.failedFuture(new CairnException(ErrorCode.BAD_REQUEST, "only writes are forwarded"));
        } else if (!node.state().isLeader()) {
            answer = Future.failedFuture(new CairnException(ErrorCode.NO_LEADER, "the leader changed while the write was forwarded; retry"));
        } else {
            answer = handle(req);
        }
        return answer.map(r -> ForwardCodec.answer(new ForwardCodec.Answer(r.status(), r.bodyJson(), r.rev(), r.etag())))
                .recover(e -> Future.succeededFuture(ForwardCodec.error(e)));
    }

    // ------------------------------------------------------------------ writes

    private Future<ApiResponse> write(ApiRequest req) {
        Throwable failure = node.failure();
        if (failure != null) {
            throw new CairnException(ErrorCode.NOT_READY, "this node stopped after a storage fault; restart it");
        }
        if (req instanceof ApiRequest.AddMember r) { // checked here, so that a follower refuses it too, leader or not
            requireHostPort(r.raftAddress(), "raftAddress");
            requireHostPort(r.httpAddress(), "httpAddress");
        }
        if (isFormerMember()) {
            throw new CairnException(ErrorCode.NO_LEADER, "this node is no longer a member of the cluster; send the write to another node");
        }
        Command command = isMembership(req) ? null : command(req);
        if (node.state().isLeader()) {
            return command == null ? membership(req) : node.propose(command).map(result -> answer(req, result));
        }
        String leader = node.state().leaderId()
                .orElseThrow(() -> new CairnException(ErrorCode.NO_LEADER, "there is no leader right now; retry"));
        byte[] json = ApiJson.toJson(req).encode().getBytes(StandardCharsets.UTF_8);
        return node.forward(leader, json).map(bytes -> {
            ForwardCodec.Answer a = ForwardCodec.decode(bytes);
            return new ApiResponse(a.status(), a.body(), a.rev(), a.etag());
        });
    }

    /**
     * Removed from the membership (it still runs until stopped): the leader no longer talks to it,
     * so a write it forwarded would wait for its timeout. It answers 503 at once instead.
     */
    private boolean isFormerMember() {
        Membership m = node.state().membership();
        return !m.members().isEmpty() && m.member(node.config().nodeId()).isEmpty();
    }

    private static boolean isMembership(ApiRequest req) {
        return req instanceof ApiRequest.AddMember || req instanceof ApiRequest.RemoveMember
                || req instanceof ApiRequest.TransferLeader;
    }

    /** Membership changes and leadership transfer, on the leader. */
    private Future<ApiResponse> membership(ApiRequest req) {
        Membership m = node.state().membership();
        if (req instanceof ApiRequest.AddMember r) {
            var existing = m.member(r.id());
            if (existing.isPresent()) {
                Member e = existing.get();
                if (e.raftAddress().equals(r.raftAddress()) && e.httpAddress().equals(r.httpAddress())) {
                    return Future.succeededFuture(ApiResponse.json(200, cluster(), -1));
                }
                throw new CairnException(ErrorCode.CONFLICT, "member '" + r.id() + "' exists with other addresses; remove it first");
            }
            if (m.members().stream().anyMatch(x -> x.raftAddress().equals(r.raftAddress()))) {
                throw new CairnException(ErrorCode.CONFLICT, "another member already uses raft address " + r.raftAddress());
            }
            Member joining = new Member(r.id(), r.raftAddress(), r.httpAddress(), false);
            return node.changeMembership(new MembershipChange.AddLearner(joining))
                    .map(index -> ApiResponse.json(201, cluster(), index));
        }
        if (req instanceof ApiRequest.RemoveMember r) {
            if (m.member(r.id()).isEmpty()) throw new CairnException(ErrorCode.NOT_FOUND, "no member '" + r.id() + "'");
            return node.changeMembership(new MembershipChange.Remove(r.id())).map(ApiResponse::noContent);
        }
        ApiRequest.TransferLeader r = (ApiRequest.TransferLeader) req;
        if (!m.isVoter(r.to())) throw new CairnException(ErrorCode.BAD_REQUEST, "'" + r.to() + "' is not a voting member");
        Future<Void> moved = r.to().equals(node.config().nodeId()) ? Future.succeededFuture() : node.transferLeadership(r.to());
        return moved.map(v -> ApiResponse.json(200, cluster(), -1));
    }

    /**
     * A member address must be {@code host:port} ({@code [v6]:port}), port 1..65535, the host without
     * blanks or control characters: once committed, every node's transport dials it.
     */
    static void requireHostPort(String address, String name) {
        int colon = address.lastIndexOf(':');
        boolean ok = colon > 0 && colon < address.length() - 1;
        if (ok) {
            String host = address.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            ok = !host.isEmpty() && host.chars().allMatch(c -> c > 0x20 && c != 0x7f && c != '/' && c != '[' && c != ']');
            try {
                int port = Integer.parseInt(address.substring(colon + 1));
                ok &= port >= 1 && port <= 65_535 && address.substring(colon + 1).chars().allMatch(Character::isDigit);
            } catch (NumberFormatException e) {
                ok = false;
            }
        }
        if (!ok) throw new CairnException(ErrorCode.BAD_REQUEST, "'" + name + "' must be host:port with a port in 1..65535");
    }

    private Command command(ApiRequest req) {
        long now = System.currentTimeMillis();
        var o = node.storeOptions();
        Command c;
        if (req instanceof ApiRequest.PutDoc r) {
            c = Command.Txn.of(now, new Op.Put(r.collection(), r.key(), r.docJson(), r.ifRev()));
        } else if (req instanceof ApiRequest.InsertDoc r) {
            c = Command.Txn.of(now, new Op.Insert(r.collection(), null, r.docJson()));
        } else if (req instanceof ApiRequest.PatchDoc r) {
            c = Command.Txn.of(now, new Op.Patch(r.collection(), r.key(), r.patchJson(), r.ifRev()));
        } else if (req instanceof ApiRequest.DeleteDoc r) {
            c = Command.Txn.of(now, new Op.Delete(r.collection(), r.key(), r.ifRev()));
        } else if (req instanceof ApiRequest.Txn r) {
            c = new Command.Txn(TxnJson.ops(body(r.bodyJson())), now);
        } else if (req instanceof ApiRequest.PutCollection r) {
            c = new Command.CreateCollection(r.collection(), r.bodyJson() == null ? List.of()
                    : TxnJson.indexes(body(r.bodyJson())), now);
        } else if (req instanceof ApiRequest.DropCollection r) {
            c = new Command.DropCollection(r.collection(), now);
        } else if (req instanceof ApiRequest.PutIndex r) {
            c = new Command.CreateIndex(r.collection(), TxnJson.index(r.index(), body(r.bodyJson())), now);
        } else if (req instanceof ApiRequest.DropIndex r) {
            c = new Command.DropIndex(r.collection(), r.index(), now);
        } else {
            throw new IllegalArgumentException("not a write: " + req);
        }
        return Validation.normalize(c, o);
    }

    private static Object body(String json) {
        return Json.parse(json, BODY_DEPTH_MAX);
    }

    private static ApiResponse answer(ApiRequest req, ApplyResult result) {
        if (!result.ok()) {
            if (result.error() != null) throw withRev(result.error(), result.rev());
            throw new CairnException(ErrorCode.INTERNAL, "the write was skipped");
        }
        long rev = result.rev();
        if (req instanceof ApiRequest.DeleteDoc || req instanceof ApiRequest.DropCollection
                || req instanceof ApiRequest.DropIndex) {
            return ApiResponse.noContent(rev);
        }
        if (req instanceof ApiRequest.Txn) {
            return ApiResponse.json(200, JsonOut.write(g -> {
                g.writeStartObject();
                g.writeNumberField("rev", rev);
                g.writeArrayFieldStart("results");
                for (ApplyResult.OpResult op : result.ops()) keyRev(g, op.key(), op.rev());
                g.writeEndArray();
                g.writeEndObject();
            }), rev);
        }
        if (req instanceof ApiRequest.PutCollection r) {
            return ApiResponse.json(result.created() ? 201 : 200, JsonOut.write(g -> {
                g.writeStartObject();
                g.writeStringField("name", r.collection());
                g.writeNumberField("rev", rev);
                g.writeEndObject();
            }), rev);
        }
        if (req instanceof ApiRequest.PutIndex r) {
            return ApiResponse.json(result.created() ? 201 : 200, JsonOut.write(g -> {
                g.writeStartObject();
                g.writeStringField("name", r.index());
                g.writeNumberField("rev", rev);
                g.writeEndObject();
            }), rev);
        }
        ApplyResult.OpResult op = result.ops().get(0);
        int status = req instanceof ApiRequest.InsertDoc || (req instanceof ApiRequest.PutDoc && op.created()) ? 201 : 200;
        return ApiResponse.json(status, JsonOut.write(g -> keyRev(g, op.key(), op.rev())), rev);
    }

    private static CairnException withRev(CairnException e, long rev) {
        Map<String, Object> details = new java.util.LinkedHashMap<>(e.details());
        details.putIfAbsent("rev", rev);
        return new CairnException(e.code(), e.getMessage(), details);
    }

    private static void keyRev(JsonGenerator g, String key, long rev) throws IOException {
        g.writeStartObject();
        g.writeStringField("key", key);
        g.writeNumberField("rev", rev);
        g.writeEndObject();
    }

    // ------------------------------------------------------------------ reads

    private Future<ApiResponse> read(ApiRequest req) {
        validateNames(req); // bad input is 400 before any barrier: never a 503/504 for it
        if (req instanceof ApiRequest.ClusterStatus) return Future.succeededFuture(ApiResponse.json(200, cluster(), -1));
        if (req instanceof ApiRequest.Snapshot) {
            return node.snapshot().map(rev -> ApiResponse.json(200, "{\"rev\":" + rev + "}", rev));
        }
        if (req instanceof ApiRequest.GetDoc r) {
            return barrier(r.read()).compose(v -> node.read(s -> s.find(r.collection(), r.key()))).map(d -> {
                if (d.value() == null) {
                    throw new CairnException(ErrorCode.NOT_FOUND, "no document '" + r.key() + "' in collection '"
                            + r.collection() + "'", Map.of("rev", d.appliedRev()));
                }
                return new ApiResponse(200, d.value().json(), d.appliedRev(), "\"" + d.value().rev() + "\"");
            });
        }
        if (req instanceof ApiRequest.ListDocs r) {
            return barrier(r.read()).compose(v -> node.read(s -> s.list(r.collection(), r.prefix(), r.after(), r.limit())))
                    .map(p -> ApiResponse.json(200, docPage(p, false), p.appliedRev()));
        }
        if (req instanceof ApiRequest.Query r) {
            Query q = Query.parse(r.queryJson());
            Validation.name("index", q.index());
            return barrier(r.read()).compose(v -> node.read(s -> s.query(r.collection(), q)))
                    .map(p -> ApiResponse.json(200, docPage(p, true), p.appliedRev()));
        }
        if (req instanceof ApiRequest.ListCollections r) {
            return barrier(r.read()).compose(v -> node.read(s -> s.listCollections()))
                    .map(v -> ApiResponse.json(200, JsonOut.write(g -> {
                        g.writeStartObject();
                        g.writeArrayFieldStart("collections");
                        for (CollectionInfo c : v.value()) collection(g, c, -1);
                        g.writeEndArray();
                        g.writeEndObject();
                    }), v.appliedRev()));
        }
        if (req instanceof ApiRequest.GetCollection r) {
            return barrier(r.read()).compose(v -> node.read(s -> s.getCollection(r.collection())))
                    .map(v -> ApiResponse.json(200, JsonOut.write(g -> collection(g, v.value(), v.appliedRev())), v.appliedRev()));
        }
        if (req instanceof ApiRequest.ListIndexes r) {
            return barrier(r.read()).compose(v -> node.read(s -> s.listIndexes(r.collection())))
                    .map(v -> ApiResponse.json(200, JsonOut.write(g -> {
                        g.writeStartObject();
                        indexes(g, v.value());
                        g.writeEndObject();
                    }), v.appliedRev()));
        }
        throw new IllegalArgumentException("not a read: " + req);
    }

    /** The names and key a read carries, checked as the store would check them (invalid_name, invalid_key). */
    private static void validateNames(ApiRequest req) {
        if (req instanceof ApiRequest.GetDoc r) {
            Validation.name("collection", r.collection());
            Validation.key(r.key());
        } else if (req instanceof ApiRequest.ListDocs r) {
            Validation.name("collection", r.collection());
        } else if (req instanceof ApiRequest.Query r) {
            Validation.name("collection", r.collection());
        } else if (req instanceof ApiRequest.GetCollection r) {
            Validation.name("collection", r.collection());
        } else if (req instanceof ApiRequest.ListIndexes r) {
            Validation.name("collection", r.collection());
        }
    }

    /** Waits until this node may serve a read of the given consistency; completes with the index it reached. */
    private Future<Long> barrier(ReadOptions o) {
        Future<Long> index = switch (o.consistency()) {
            case LOCAL -> Future.succeededFuture(o.minRev());
            case LEASE -> node.readBarrier(true);
            case LINEARIZABLE -> node.readBarrier(false);
        };
        return index.compose(i -> node.awaitApplied(Math.max(i, o.minRev())));
    }

    private static String docPage(Versioned<DocPage> v, boolean withRev) {
        DocPage p = v.value();
        return JsonOut.write(g -> {
            g.writeStartObject();
            if (p.count() != null) {
                g.writeNumberField("count", p.count());
                g.writeNumberField("rev", v.appliedRev());
                g.writeEndObject();
                return;
            }
            g.writeArrayFieldStart("docs");
            for (Document d : p.docs()) {
                g.writeStartObject();
                g.writeStringField("key", d.key());
                g.writeNumberField("rev", d.rev());
                g.writeFieldName("doc");
                g.writeRawValue(d.json());
                g.writeEndObject();
            }
            g.writeEndArray();
            if (p.next() == null) g.writeNullField("next");
            else g.writeStringField("next", p.next());
            if (withRev) g.writeNumberField("rev", v.appliedRev());
            g.writeEndObject();
        });
    }

    private static void collection(JsonGenerator g, CollectionInfo c, long rev) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", c.name());
        g.writeNumberField("count", c.count());
        indexes(g, c.indexes());
        if (rev >= 0) g.writeNumberField("rev", rev);
        g.writeEndObject();
    }

    private static void indexes(JsonGenerator g, List<IndexSpec> specs) throws IOException {
        g.writeArrayFieldStart("indexes");
        for (IndexSpec i : specs) {
            g.writeStartObject();
            g.writeStringField("name", i.name());
            g.writeArrayFieldStart("fields");
            for (String f : i.fields()) g.writeString(f);
            g.writeEndArray();
            g.writeBooleanField("unique", i.unique());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    // ------------------------------------------------------------------ cluster and health

    /** The body of {@code GET /v1/cluster}. */
    public String cluster() {
        Status s = node.state().status();
        var leader = node.state().leader();
        return JsonOut.write(g -> {
            g.writeStartObject();
            g.writeStringField("clusterId", node.config().clusterId());
            g.writeStringField("nodeId", node.config().nodeId());
            g.writeNumberField("term", s.term());
            if (leader.isEmpty()) {
                g.writeNullField("leader");
            } else {
                g.writeObjectFieldStart("leader");
                g.writeStringField("id", leader.get().id());
                g.writeStringField("httpAddress", leader.get().httpAddress());
                g.writeEndObject();
            }
            g.writeNumberField("commitIndex", s.commitIndex());
            g.writeNumberField("appliedIndex", node.appliedIndex());
            g.writeArrayFieldStart("members");
            for (Member m : s.membership().members()) member(g, s, m);
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    private void member(JsonGenerator g, Status s, Member m) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", m.id());
        g.writeStringField("raftAddress", m.raftAddress());
        g.writeStringField("httpAddress", m.httpAddress());
        g.writeBooleanField("voter", m.voter());
        g.writeStringField("role", roleOf(s, m));
        Long match = s.matchIndex().get(m.id());
        if (match == null) g.writeNullField("matchIndex");
        else g.writeNumberField("matchIndex", match);
        g.writeEndObject();
    }

    private String roleOf(Status s, Member m) {
        if (m.id().equals(s.leaderId())) return "leader";
        if (m.id().equals(node.config().nodeId())) return s.role() == Role.LEADER ? "leader"
                : s.role().name().toLowerCase(java.util.Locale.ROOT);
        return m.voter() ? "follower" : "learner";
    }

    /** {@code GET /health/ready}: a leader is known, nothing failed, and this node applied what it knows committed. */
    public Future<ApiResponse> ready() {
        Status s = node.state().status();
        String reason = null;
        if (node.failure() != null) reason = "replication stopped after a storage fault";
        else if (isFormerMember()) reason = "this node is no longer a member of the cluster";
        else if (s.leaderId() == null) reason = "no leader is known";
        else if (node.appliedIndex() < s.commitIndex()) {
            reason = "catching up: applied " + node.appliedIndex() + " of " + s.commitIndex();
        }
        if (reason == null) {
            return Future.succeededFuture(ApiResponse.json(200, "{\"status\":\"ready\"}", node.appliedIndex()));
        }
        return Future.failedFuture(new CairnException(ErrorCode.NOT_READY, "not ready: " + reason));
    }

    /**
     * {@code GET /v1/backup}: a consistent copy of this node's store (SQLite online backup into a
     * temp file), streamed from disk, then deleted. By default of whatever this node has applied
     * (so a lone survivor of a lost quorum can still be backed up); {@code consistency} and
     * {@code minRev} wait as for a read, so {@code consistency=linearizable} holds every write
     * acknowledged before the request.
     */
    public Future<ApiResponse> backup(io.vertx.ext.web.RoutingContext ctx) {
        String consistency = ctx.request().getParam("consistency");
        ReadOptions o = new ReadOptions(consistency == null ? Consistency.LOCAL : Consistency.parse(consistency),
                HttpApi.longParam(ctx, "minRev", 0, 0, Long.MAX_VALUE));
        java.nio.file.Path tmp = node.config().dataDir().resolve("backup-" + System.nanoTime() + ".db.tmp");
        return barrier(o).compose(i -> node.read(s -> s.snapshot(tmp))).compose(info -> {
            var resp = ctx.response()
                    .putHeader("Content-Type", "application/vnd.sqlite3")
                    .putHeader("Content-Disposition", "attachment; filename=\"cairn-" + info.index() + ".db\"")
                    .putHeader("X-Cairn-Rev", Long.toString(info.index()));
            return resp.sendFile(tmp.toString()).<ApiResponse>map(v -> null);
        }).onComplete(ar -> tmp.toFile().delete());
    }

    /** {@code GET /metrics}: Prometheus text. */
    public Future<ApiResponse> metrics(io.vertx.ext.web.RoutingContext ctx) {
        String text = metrics.scrape();
        return ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text).map(v -> null);
    }

    public Future<ApiResponse> live() {
        return Future.succeededFuture(ApiResponse.json(200, "{\"status\":\"live\"}", -1));
    }

    /** The HTTP mapping of this handler, with the health routes and the change streams. */
    public HttpApi httpApi(ChangeStreams changes) {
        Map<String, Function<io.vertx.ext.web.RoutingContext, Future<ApiResponse>>> extra = Map.of(
                "/health/live", ctx -> live(),
                "/health/ready", ctx -> ready(),
                "/v1/changes", changes::handle,
                "/v1/backup", this::backup,
                "/metrics", this::metrics);
        return new HttpApi(this::handle, extra);
    }
}
