package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps HTTP to {@link ApiRequest}s (API.md, "Documents", "Collections and indexes", "Queries",
 * "Transactions") and {@link ApiResponse}s back to HTTP. Paths are split and percent-decoded here,
 * strictly, so a key may hold any character, {@code /} included. Every failure becomes the error
 * body of API.md; bad input never yields a 5xx.
 */
public final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
    private static final String JSON_TYPE = "application/json; charset=utf-8";
    private static final int LIST_LIMIT_DEFAULT = 100;
    private static final int LIST_LIMIT_MAX = 10_000;

    private final Function<ApiRequest, Future<ApiResponse>> service;
    private final Map<String, Function<RoutingContext, Future<ApiResponse>>> extraGetRoutes;

    /**
     * @param service answers requests (never throws; failures arrive as a failed Future holding a
     *     {@link CairnException} or any other exception, which becomes a 500)
     * @param extraGetRoutes exact paths served outside the {@code /v1} documents API (health, cluster)
     */
    public HttpApi(Function<ApiRequest, Future<ApiResponse>> service,
                   Map<String, Function<RoutingContext, Future<ApiResponse>>> extraGetRoutes) {
        this.service = service;
        this.extraGetRoutes = Map.copyOf(extraGetRoutes);
    }

    /** Builds the router. {@code requestBytesMax} bounds every request body (413 beyond). */
    public Router router(Vertx vertx, long requestBytesMax) {
        Router router = Router.router(vertx);
        router.route().method(HttpMethod.POST).method(HttpMethod.PUT).method(HttpMethod.PATCH)
                .handler(BodyHandler.create(false).setBodyLimit(requestBytesMax));
        router.route().handler(this::dispatch);
        router.route().failureHandler(this::failure);
        return router;
    }

    private void dispatch(RoutingContext ctx) {
        Future<ApiResponse> answer;
        try {
            answer = route(ctx);
        } catch (CairnException e) {
            answer = Future.failedFuture(e);
        }
        answer.onComplete(ar -> {
            if (ar.succeeded()) write(ctx, ar.result());
            else writeError(ctx, ar.cause());
        });
    }

    private Future<ApiResponse> route(RoutingContext ctx) {
        String path = ctx.request().path();
        HttpMethod method = ctx.request().method();
        try {
            ctx.request().params(); // decodes the whole query string once; a bad escape is the client's error
        } catch (IllegalArgumentException e) {
            throw new CairnException(ErrorCode.BAD_REQUEST, "the query string is not valid percent-encoded UTF-8");
        }
        Function<RoutingContext, Future<ApiResponse>> extra = extraGetRoutes.get(path);
        if (extra != null) {
            requireMethod(method, List.of(HttpMethod.GET));
            return extra.apply(ctx);
        }
        if (!path.startsWith("/v1/")) throw notFound(path);
        List<String> seg = Arrays.asList(path.substring(4).split("/", -1));
        if (seg.get(0).equals("txn") && seg.size() == 1) {
            requireMethod(method, List.of(HttpMethod.POST));
            return service.apply(new ApiRequest.Txn(body(ctx, false)));
        }
        if (seg.get(0).equals("cluster")) return cluster(ctx, method, seg, path);
        if (seg.get(0).equals("snapshot") && seg.size() == 1) {
            requireMethod(method, List.of(HttpMethod.POST));
            return service.apply(new ApiRequest.Snapshot());
        }
        if (!seg.get(0).equals("collections")) throw notFound(path);
        if (seg.size() == 1) {
            requireMethod(method, List.of(HttpMethod.GET));
            return service.apply(new ApiRequest.ListCollections(readOptions(ctx)));
        }
        String c = PathCodec.decode(seg.get(1), ErrorCode.INVALID_NAME);
        if (seg.size() == 2) return collection(ctx, method, c);
        String sub = seg.get(2);
        if (sub.equals("docs")) {
            if (seg.size() == 3) return docs(ctx, method, c);
            String rawKey = String.join("/", seg.subList(3, seg.size()));
            return doc(ctx, method, c, PathCodec.decode(rawKey, ErrorCode.INVALID_KEY));
        }
        if (sub.equals("query") && seg.size() == 3) {
            requireMethod(method, List.of(HttpMethod.POST));
            return service.apply(new ApiRequest.Query(c, body(ctx, false), readOptions(ctx)));
        }
        if (sub.equals("indexes") && seg.size() == 3) {
            requireMethod(method, List.of(HttpMethod.GET));
            return service.apply(new ApiRequest.ListIndexes(c, readOptions(ctx)));
        }
        if (sub.equals("indexes") && seg.size() == 4) {
            String i = PathCodec.decode(seg.get(3), ErrorCode.INVALID_NAME);
            requireMethod(method, List.of(HttpMethod.PUT, HttpMethod.DELETE));
            return method == HttpMethod.PUT
                    ? service.apply(new ApiRequest.PutIndex(c, i, body(ctx, false)))
                    : service.apply(new ApiRequest.DropIndex(c, i));
        }
        throw notFound(path);
    }

    private Future<ApiResponse> cluster(RoutingContext ctx, HttpMethod method, List<String> seg, String path) {
        if (seg.size() == 1) {
            requireMethod(method, List.of(HttpMethod.GET));
            return service.apply(new ApiRequest.ClusterStatus());
        }
        if (seg.get(1).equals("members") && seg.size() == 2) {
            requireMethod(method, List.of(HttpMethod.POST));
            JsonObject b = jsonObject(ctx);
            return service.apply(new ApiRequest.AddMember(field(b, "id"), field(b, "raftAddress"), field(b, "httpAddress")));
        }
        if (seg.get(1).equals("members") && seg.size() == 3) {
            requireMethod(method, List.of(HttpMethod.DELETE));
            return service.apply(new ApiRequest.RemoveMember(PathCodec.decode(seg.get(2), ErrorCode.BAD_REQUEST)));
        }
        if (seg.get(1).equals("leader") && seg.size() == 2) {
            requireMethod(method, List.of(HttpMethod.POST));
            return service.apply(new ApiRequest.TransferLeader(field(jsonObject(ctx), "to")));
        }
        throw notFound(path);
    }

    /** A small control body (not a document) as a Vert.x JSON object. */
    private static JsonObject jsonObject(RoutingContext ctx) {
        String text = body(ctx, false);
        try {
            return new JsonObject(text);
        } catch (RuntimeException e) {
            throw new CairnException(ErrorCode.INVALID_JSON, "the body must be a JSON object");
        }
    }

    private static String field(JsonObject body, String name) {
        Object v = body.getValue(name);
        if (v instanceof String s && !s.isEmpty() && s.length() <= 256) return s;
        throw new CairnException(ErrorCode.BAD_REQUEST, "'" + name + "' must be a non-empty string");
    }

    private Future<ApiResponse> collection(RoutingContext ctx, HttpMethod method, String c) {
        requireMethod(method, List.of(HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE));
        if (method == HttpMethod.GET) return service.apply(new ApiRequest.GetCollection(c, readOptions(ctx)));
        if (method == HttpMethod.DELETE) return service.apply(new ApiRequest.DropCollection(c));
        // first: a form type makes the body handler consume the body, which would then look absent (a valid create)
        checkContentType(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE), false);
        Buffer raw = ctx.body().buffer();
        String body = raw == null || raw.length() == 0 ? null : body(ctx, false);
        return service.apply(new ApiRequest.PutCollection(c, body));
    }

    private Future<ApiResponse> docs(RoutingContext ctx, HttpMethod method, String c) {
        requireMethod(method, List.of(HttpMethod.GET, HttpMethod.POST));
        if (method == HttpMethod.POST) return service.apply(new ApiRequest.InsertDoc(c, body(ctx, false)));
        int limit = intParam(ctx, "limit", LIST_LIMIT_DEFAULT, 1, LIST_LIMIT_MAX);
        return service.apply(new ApiRequest.ListDocs(c, ctx.request().getParam("prefix"),
                ctx.request().getParam("after"), limit, readOptions(ctx)));
    }

    private Future<ApiResponse> doc(RoutingContext ctx, HttpMethod method, String c, String key) {
        requireMethod(method, List.of(HttpMethod.GET, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE));
        if (method == HttpMethod.GET) return service.apply(new ApiRequest.GetDoc(c, key, readOptions(ctx)));
        if (method == HttpMethod.DELETE) return service.apply(new ApiRequest.DeleteDoc(c, key, ifMatch(ctx)));
        if (method == HttpMethod.PATCH) return service.apply(new ApiRequest.PatchDoc(c, key, body(ctx, true), ifMatch(ctx)));
        Long ifRev = ifMatch(ctx);
        String noneMatch = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
        if (noneMatch != null) {
            if (!noneMatch.trim().equals("*")) {
                throw new CairnException(ErrorCode.BAD_REQUEST, "If-None-Match supports only '*' (the document must not exist)");
            }
            if (ifRev != null) throw new CairnException(ErrorCode.BAD_REQUEST, "use either If-Match or If-None-Match, not both");
            ifRev = 0L;
        }
        return service.apply(new ApiRequest.PutDoc(c, key, body(ctx, false), ifRev));
    }

    /** The {@code If-Match: "<rev>"} header as a revision, or null when absent. */
    private static Long ifMatch(RoutingContext ctx) {
        String v = ctx.request().getHeader(HttpHeaders.IF_MATCH);
        if (v == null) return null;
        String t = v.trim();
        if (t.startsWith("W/")) t = t.substring(2);
        if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) t = t.substring(1, t.length() - 1);
        try {
            long rev = Long.parseLong(t);
            if (rev > 0) return rev;
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new CairnException(ErrorCode.BAD_REQUEST, "If-Match must be a revision in quotes, such as \"42\"");
    }

    private static ReadOptions readOptions(RoutingContext ctx) {
        Consistency c = Consistency.parse(ctx.request().getParam("consistency"));
        long minRev = longParam(ctx, "minRev", 0, 0, Long.MAX_VALUE);
        return new ReadOptions(c, minRev);
    }

    private static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
        return (int) longParam(ctx, name, dflt, min, max);
    }

    /** A whole-number query parameter in [min, max], {@code dflt} when absent; else {@code bad_request}. */
    static long longParam(RoutingContext ctx, String name, long dflt, long min, long max) {
        String v = ctx.request().getParam(name);
        if (v == null) return dflt;
        try {
            long n = Long.parseLong(v);
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException ignored) {
            // fall through to the error below
        }
        throw new CairnException(ErrorCode.BAD_REQUEST, name + " must be a whole number in " + min + ".." + max);
    }

    /** The request body as strict UTF-8 text, after the Content-Type check of API.md "Bodies". */
    private static String body(RoutingContext ctx, boolean mergePatchAllowed) {
        checkContentType(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE), mergePatchAllowed);
        Buffer b = ctx.body().buffer();
        if (b == null || b.length() == 0) throw new CairnException(ErrorCode.INVALID_JSON, "the request needs a JSON body");
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b.getBytes()))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new CairnException(ErrorCode.INVALID_JSON, "the request body is not valid UTF-8");
        }
    }

    static void checkContentType(String header, boolean mergePatchAllowed) {
        if (header == null) return;
        String[] parts = header.split(";");
        String type = parts[0].trim().toLowerCase(java.util.Locale.ROOT);
        boolean ok = type.equals("application/json") || (mergePatchAllowed && type.equals("application/merge-patch+json"));
        if (!ok) {
            throw new CairnException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json"
                    + (mergePatchAllowed ? " or application/merge-patch+json" : "") + ", not '" + header + "'");
        }
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim().toLowerCase(java.util.Locale.ROOT);
            if (p.startsWith("charset=") && !p.equals("charset=utf-8") && !p.equals("charset=\"utf-8\"")) {
                throw new CairnException(ErrorCode.UNSUPPORTED_MEDIA_TYPE, "request bodies must be UTF-8, not " + p);
            }
        }
    }

    private static void requireMethod(HttpMethod method, List<HttpMethod> allowed) {
        if (allowed.contains(method)) return;
        String allow = String.join(", ", allowed.stream().map(HttpMethod::name).toList());
        throw new CairnException(ErrorCode.METHOD_NOT_ALLOWED, "this path takes " + allow + ", not " + method.name(),
                Map.of("allow", allow));
    }

    private static CairnException notFound(String path) {
        String shown = path.length() > 100 ? path.substring(0, 100) + "..." : path;
        return new CairnException(ErrorCode.NOT_FOUND, "no route " + shown);
    }

    /** Writes {@code r}; a null response means the route answered by itself (a WebSocket upgrade). */
    private static void write(RoutingContext ctx, ApiResponse r) {
        if (r == null) return;
        HttpServerResponse resp = ctx.response();
        if (resp.ended() || resp.closed()) return;
        resp.setStatusCode(r.status());
        if (r.rev() >= 0) resp.putHeader("X-Cairn-Rev", Long.toString(r.rev()));
        if (r.etag() != null) resp.putHeader(HttpHeaders.ETAG, r.etag());
        if (r.bodyJson() == null) {
            resp.end();
        } else {
            resp.putHeader(HttpHeaders.CONTENT_TYPE, JSON_TYPE).end(r.bodyJson());
        }
    }

    private static void writeError(RoutingContext ctx, Throwable cause) {
        HttpServerResponse resp = ctx.response();
        if (resp.ended() || resp.closed()) return;
        CairnException e;
        if (cause instanceof CairnException ce) {
            e = ce;
        } else {
            log.error("request {} {} failed", ctx.request().method(), ctx.request().path(), cause);
            e = new CairnException(ErrorCode.INTERNAL, "the server failed: " + cause.getClass().getSimpleName());
        }
        resp.setStatusCode(e.code().httpStatus());
        if (e.code() == ErrorCode.NO_LEADER || e.code() == ErrorCode.NOT_READY) resp.putHeader(HttpHeaders.RETRY_AFTER, "1");
        if (e.code() == ErrorCode.METHOD_NOT_ALLOWED && e.details().get("allow") != null) {
            resp.putHeader(HttpHeaders.ALLOW, String.valueOf(e.details().get("allow")));
        }
        Object rev = e.details().get("rev");
        if (rev instanceof Number n) resp.putHeader("X-Cairn-Rev", Long.toString(n.longValue()));
        Map<String, Object> shown = new java.util.LinkedHashMap<>(e.details());
        shown.remove("allow");
        shown.remove("rev");
        resp.putHeader(HttpHeaders.CONTENT_TYPE, JSON_TYPE).end(Errors.body(e.code(), e.getMessage(), shown).encode());
    }

    private void failure(RoutingContext ctx) {
        int status = ctx.statusCode();
        if (status < 400) {
            // no status: an exception; one from decoding the request (a bad chunk size, a bad escape) is the client's
            status = ctx.failure() instanceof IllegalArgumentException || ctx.failure() instanceof io.netty.handler.codec.DecoderException
                    ? 400 : 500;
        }
        ErrorCode code = Errors.forStatus(status);
        if (code == ErrorCode.INTERNAL && status < 500) code = ErrorCode.BAD_REQUEST; // e.g. 417 for an Expect it cannot meet
        String message = switch (code) {
            case PAYLOAD_TOO_LARGE -> "the request body is over the limit";
            case BAD_REQUEST -> "the request is malformed";
            default -> "the request failed";
        };
        if (ctx.failure() != null && !(ctx.failure() instanceof CairnException)) {
            log.warn("request {} {} failed with {}", ctx.request().method(), ctx.request().path(), status, ctx.failure());
        }
        writeError(ctx, ctx.failure() instanceof CairnException ce ? ce : new CairnException(code, message));
    }
}
