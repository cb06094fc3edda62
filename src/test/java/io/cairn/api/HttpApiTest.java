package io.cairn.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP mapping alone, against a recording service: routes, headers, and every input error. */
class HttpApiTest {
    private static Vertx vertx;
    private static HttpServer server;
    private static WebClient client;
    private static final List<ApiRequest> seen = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        HttpApi api = new HttpApi(req -> {
            seen.add(req);
            if (req instanceof ApiRequest.GetDoc g && g.key().equals("missing")) {
                return Future.failedFuture(new CairnException(ErrorCode.NOT_FOUND, "no such document"));
            }
            if (req instanceof ApiRequest.GetDoc) return Future.succeededFuture(new ApiResponse(200, "{\"a\":1}", 7, "\"5\""));
            if (req instanceof ApiRequest.DeleteDoc) return Future.succeededFuture(ApiResponse.noContent(9));
            return Future.succeededFuture(ApiResponse.json(200, "{}", 3));
        }, Map.of("/health/live", ctx -> Future.succeededFuture(ApiResponse.json(200, "{\"status\":\"ok\"}", -1))));
        server = vertx.createHttpServer().requestHandler(api.router(vertx, 1024)).listen(0, "127.0.0.1").await();
        client = WebClient.create(vertx);
    }

    @AfterAll
    static void stop() {
        vertx.close().await();
    }

    @BeforeEach
    void clear() {
        seen.clear();
    }

    private HttpResponse<Buffer> send(HttpMethod m, String path, String body, String... headers) {
        var req = client.request(m, server.actualPort(), "127.0.0.1", path);
        for (int i = 0; i < headers.length; i += 2) req.putHeader(headers[i], headers[i + 1]);
        return (body == null ? req.send() : req.sendBuffer(Buffer.buffer(body))).await();
    }

    private static String errorCode(HttpResponse<Buffer> r) {
        return new JsonObject(r.bodyAsString()).getJsonObject("error").getString("code");
    }

    @Test
    void keysArePercentDecodedAndMaySpanSlashes() {
        var r = send(HttpMethod.GET, "/v1/collections/users/docs/a%2Fb%20c/d?consistency=local&minRev=4", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.getHeader("ETag")).isEqualTo("\"5\"");
        assertThat(r.getHeader("X-Cairn-Rev")).isEqualTo("7");
        assertThat(r.getHeader("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(seen).containsExactly(new ApiRequest.GetDoc("users", "a/b c/d", new ReadOptions(Consistency.LOCAL, 4)));
    }

    @Test
    void invalidUtf8KeyIsInvalidKey() {
        var r = send(HttpMethod.GET, "/v1/collections/users/docs/%C3%28", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errorCode(r)).isEqualTo("invalid_key");
        assertThat(seen).isEmpty();
    }

    @Test
    void unknownRouteIs404AndWrongMethodIs405() {
        var r = send(HttpMethod.GET, "/v2/nothing", null);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(errorCode(r)).isEqualTo("not_found");
        r = send(HttpMethod.POST, "/v1/collections/users/docs/k", "{}");
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(errorCode(r)).isEqualTo("method_not_allowed");
        assertThat(r.getHeader("Allow")).contains("PUT");
    }

    @Test
    void putCarriesConditions() {
        send(HttpMethod.PUT, "/v1/collections/c/docs/k", "{\"x\":1}", "If-Match", "\"12\"");
        send(HttpMethod.PUT, "/v1/collections/c/docs/k", "{\"x\":1}", "If-None-Match", "*");
        assertThat(seen).containsExactly(
                new ApiRequest.PutDoc("c", "k", "{\"x\":1}", 12L),
                new ApiRequest.PutDoc("c", "k", "{\"x\":1}", 0L));
        var bad = send(HttpMethod.PUT, "/v1/collections/c/docs/k", "{}", "If-Match", "twelve");
        assertThat(bad.statusCode()).isEqualTo(400);
    }

    @Test
    void deleteAnswers204WithRevHeader() {
        var r = send(HttpMethod.DELETE, "/v1/collections/c/docs/k", null);
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.getHeader("X-Cairn-Rev")).isEqualTo("9");
    }

    @Test
    void bodyErrors() {
        var r = send(HttpMethod.PUT, "/v1/collections/c/docs/k", "{}", "Content-Type", "text/plain");
        assertThat(r.statusCode()).isEqualTo(415);
        assertThat(errorCode(r)).isEqualTo("unsupported_media_type");
        r = send(HttpMethod.PATCH, "/v1/collections/c/docs/k", "{}", "Content-Type", "application/merge-patch+json");
        assertThat(r.statusCode()).isEqualTo(200);
        r = send(HttpMethod.PUT, "/v1/collections/c/docs/k", "x".repeat(2000));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(errorCode(r)).isEqualTo("payload_too_large");
        r = send(HttpMethod.POST, "/v1/collections/c/docs", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errorCode(r)).isEqualTo("invalid_json");
        var req = client.request(HttpMethod.POST, server.actualPort(), "127.0.0.1", "/v1/txn");
        r = req.sendBuffer(Buffer.buffer(new byte[] {'{', (byte) 0xff, '}'})).await();
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errorCode(r)).isEqualTo("invalid_json");
    }

    @Test
    void badQueryParameters() {
        var r = send(HttpMethod.GET, "/v1/collections/c/docs?limit=0", null);
        assertThat(r.statusCode()).isEqualTo(400);
        r = send(HttpMethod.GET, "/v1/collections/c/docs?consistency=eventual", null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(errorCode(r)).isEqualTo("bad_request");
        assertThat(seen).isEmpty();
    }

    @Test
    void extraRoutesAndErrorsFromTheService() {
        assertThat(send(HttpMethod.GET, "/health/live", null).statusCode()).isEqualTo(200);
        var r = send(HttpMethod.GET, "/v1/collections/c/docs/missing", null);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(new JsonObject(r.bodyAsString()).getJsonObject("error").getString("message")).isEqualTo("no such document");
    }

    /** Raw bytes on a fresh connection; the status of the answer (-1 when the server closed without one). */
    private static int raw(String request) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.actualPort())) {
            s.setSoTimeout(5_000);
            s.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            s.shutdownOutput();
            byte[] head = new byte[12];
            int n = s.getInputStream().readNBytes(head, 0, 12);
            return n < 12 ? -1 : Integer.parseInt(new String(head, 9, 3, java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    /** Found by the hostile-input fuzzer (HostileInputIT, seed 5730570477203): a bad escape in the query was a 500. */
    @Test
    void aQueryStringWithABadEscapeIs400() {
        for (String q : List.of("/v1/collections/c/docs?prefix=%zz", "/v1/collections/c?a=%", "/v1/collections?limit=%",
                "/v1/changes?after=%", "/health/live?x=%")) {
            var r = send(HttpMethod.GET, q, null);
            assertThat(r.statusCode()).as(q).isEqualTo(400);
            assertThat(errorCode(r)).isEqualTo("bad_request");
        }
        assertThat(seen).isEmpty();
    }

    /**
     * Found by the hostile-input fuzzer (HostileInputIT, seed 5730570477203): a body the server cannot
     * read (an Expect it cannot meet, a bad chunk size) was answered 500.
     */
    @Test
    void aBodyTheServerCannotReadIs4xx() throws Exception {
        int expect = raw("PUT /v1/collections/c/docs/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Expect: 999-fly\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
        assertThat(expect).isBetween(400, 499);
        int chunk = raw("POST /v1/collections/c/docs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
        assertThat(chunk).isIn(-1, 400);
        assertThat(seen).isEmpty();
    }

    /**
     * Found by the hostile-input fuzzer (HostileInputIT, seed 6480720570694): {@code PUT} of a
     * collection with a form content type created the collection (the body handler had consumed
     * the body as a form, so it looked absent).
     */
    @Test
    void aCollectionPutWithAFormContentTypeIs415() {
        for (String type : List.of("multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "text/plain")) {
            var r = send(HttpMethod.PUT, "/v1/collections/fzq3", "{\"indexes\":[]}", "Content-Type", type);
            assertThat(r.statusCode()).as(type).isEqualTo(415);
        }
        assertThat(seen).isEmpty();
    }
}
