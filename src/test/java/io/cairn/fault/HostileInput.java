package io.cairn.fault;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * The seeded generator of the hostile-input fuzzer: malformed requests for Cairn's HTTP API, its
 * WebSocket change stream and its peer port, made from {@code Random(seed, case)} alone, so a seed
 * and a case number replay one case exactly.
 *
 * <p><b>Nothing generated may be a valid change.</b> The fuzzer checks that the store is the same
 * afterwards, so every request that could write carries at least one sure defect (an invalid body,
 * path, name, content type or header) and never an empty body (an empty {@code PUT} of a collection
 * is a valid create). Read-only requests may be valid. Cluster requests name no real member.
 */
final class HostileInput {
    enum Channel { HTTP, WS, PEER }

    /**
     * What the server must do. {@link #ANSWER}: answer (no 5xx except 505) or close, within the
     * bound. {@link #CLOSE}: close within the bound (a protocol violation, or a truncated request
     * whose sender has half-closed). {@link #ANY}: only "no crash" is checked.
     */
    enum Expect { ANSWER, CLOSE, ANY }

    /**
     * One case. For {@link Channel#WS}, {@code bytes} is the handshake and {@code after} the frames
     * sent once it was accepted; for the others {@code after} is empty.
     */
    record Case(int index, Channel channel, String what, byte[] bytes, byte[] after, boolean halfClose, Expect expect,
                Expect afterExpect, int node) {
        Case at(int n) {
            return new Case(index, channel, what, bytes, after, halfClose, expect, afterExpect, n);
        }
    }

    /** The names the fuzzer's targets use: the seeded collection and index, the cluster's member ids, its id. */
    record Targets(String collection, String index, List<String> memberIds, String clusterId) {}

    private final long seed;
    private final Targets t;

    HostileInput(long seed, Targets targets) {
        this.seed = seed;
        this.t = targets;
    }

    /** Case {@code index}, aimed at node {@code node()} (an index into {@link Targets#memberIds()}). */
    Case generate(int index) {
        Random r = new Random(seed * 0x9E3779B97F4A7C15L + index);
        int node = r.nextInt(t.memberIds().size());
        int roll = r.nextInt(100);
        Case c;
        if (roll < 78) c = http(index, r);
        else if (roll < 89) c = ws(index, r);
        else c = peer(index, r, t.memberIds().get(node));
        return c.at(node);
    }

    // ------------------------------------------------------------------ HTTP

    private static final String[] READ_PATHS = {
        "/v1/collections", "/v1/collections/%s", "/v1/collections/%s/docs", "/v1/collections/%s/docs/k1",
        "/v1/collections/%s/indexes", "/v1/cluster", "/health/ready", "/health/live", "/v1/changes?after=0&limit=3",
        "/v1/collections/%s/docs?limit=2", "/metrics", "/", "/v1", "/v1/", "/v2/collections",
    };

    private static final String[] BAD_SEGMENTS = {
        "%", "%z", "%zz", "%ff", "%c0%af", "%ed%a0%80", "%f8%88%80%80%80", "%00", "%80", "%e2%82", "1bad", "a%20b",
        "x".repeat(65), "%2e%2e", "..", "a;b", "%C3%28", "%F0%28%8C%BC", "_x", "-x", "%u0041", "%%", "%2",
    };

    private static final String[] BAD_QUERIES = {
        "limit=-1", "limit=abc", "limit=0", "limit=99999999999999999999", "limit=1e3", "after=%ff", "prefix=%zz",
        "consistency=bogus", "consistency=", "minRev=-5", "minRev=abc", "minRev=99999999999999999999", "limit=%",
        "after=%c0%80", "consistency=linearizable&consistency=local", "=", "&&&", "a=%", "limit=10001",
    };

    private Case http(int index, Random r) {
        int kind = r.nextInt(12);
        return switch (kind) {
            case 0 -> rawGarbage(index, r);
            case 1 -> badRequestLine(index, r);
            case 2 -> badPath(index, r);
            case 3, 4 -> badBody(index, r);
            case 5 -> badHeaders(index, r);
            case 6 -> chunked(index, r);
            case 7 -> truncated(index, r);
            case 8 -> pipelined(index, r);
            case 9 -> badQuery(index, r);
            case 10 -> badLongPoll(index, r);
            default -> badControlBody(index, r);
        };
    }

    private Case rawGarbage(int index, Random r) {
        byte[] junk = randomBytes(r, 1 + r.nextInt(r.nextBoolean() ? 64 : 4096));
        if (r.nextInt(3) == 0) junk = concat("GET ".getBytes(StandardCharsets.US_ASCII), junk);
        if (r.nextInt(4) == 0) junk = concat(junk, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        // garbage may never form a complete request: the sender half-closes, the server must close
        return new Case(index, Channel.HTTP, "random bytes", junk, new byte[0], true, Expect.CLOSE, Expect.ANY, 0);
    }

    private Case badRequestLine(int index, Random r) {
        String[] methods = {"GETT", "G ET", "get", "", "CONNECT", "TRACE", "OPTIONS", "HEAD", "PROPFIND", "BREW",
            randomToken(r, 1 + r.nextInt(20)), "X".repeat(1000), "GET\u0000", "PRI"};
        String[] versions = {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.2", "HTTP/9.9", "HTTP/0.9", "http/1.1", "HTTP/1",
            "HTTP/1.1.1", "", "HTTP/1.1 x", "HTTX/1.1", "HTTP/01.1"};
        String[] targets = {"*", "http://127.0.0.1/v1/cluster", "/" + "a".repeat(9000), "/v1/%", "?", "#frag",
            "/v1/collections/" + t.collection() + "/docs/k1", "//", "/v1/./cluster", "/v1/../v1/cluster", "", "v1/cluster",
            "/v1/collections/\u00e9", "/\u0001"};
        String method = pick(r, methods);
        String target = pick(r, targets);
        String version = pick(r, versions);
        boolean writeMethod = method.equals("PUT") || method.equals("POST") || method.equals("PATCH") || method.equals("DELETE");
        byte[] body = writeMethod ? invalidJsonBody(r) : new byte[0];
        byte[] head = (method + " " + target + (version.isEmpty() ? "" : " " + version) + "\r\nHost: cairn\r\n"
                + (body.length > 0 ? "Content-Length: " + body.length + "\r\n" : "") + "Connection: close\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8);
        return new Case(index, Channel.HTTP, "request line " + RawExchange.abbreviate(method + " " + abbreviate(target) + " " + version),
                concat(head, body), new byte[0], false, Expect.ANSWER, Expect.ANY, 0);
    }

    private Case badPath(int index, Random r) {
        String seg = pick(r, BAD_SEGMENTS);
        String c = t.collection();
        String[] paths = {
            "/v1/collections/" + seg, "/v1/collections/" + seg + "/docs", "/v1/collections/" + seg + "/docs/k1",
            "/v1/collections/" + c + "/docs/" + badKey(r), "/v1/collections/" + c + "/indexes/" + seg,
            "/v1/collections/" + seg + "/query", "/v1/collections/" + c + "/" + seg, "/v1/cluster/members/" + seg,
            "/v1/" + seg, "/v1/collections/" + c + "/docs/" + badKey(r) + "/" + seg,
        };
        String path = pick(r, paths);
        String method = pick(r, new String[] {"GET", "PUT", "POST", "PATCH", "DELETE"});
        // a DELETE must hit an invalid name or key: only paths whose collection or key segment is bad
        if (method.equals("DELETE") && !path.startsWith("/v1/collections/" + seg) && !path.contains("/docs/")) {
            path = "/v1/collections/" + seg + "/docs/k1";
        }
        byte[] body = method.equals("GET") || method.equals("DELETE") ? new byte[0] : invalidJsonBody(r);
        return request(index, "bad path " + method + " " + abbreviate(path), method, path, "application/json", body, Expect.ANSWER);
    }

    /** A key that is not a valid key: bad percent-encoding, or over 512 bytes. */
    private String badKey(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> "%ff";
            case 1 -> "%c0%80";
            case 2 -> "k".repeat(513);
            case 3 -> "%";
            case 4 -> "%ed%b0%80";
            default -> "%e9" + "x".repeat(r.nextInt(10));
        };
    }

    private Case badBody(int index, Random r) {
        String c = t.collection();
        String key = "fz-" + r.nextInt(1000);
        int target = r.nextInt(7);
        String method;
        String path;
        switch (target) {
            case 0 -> { method = "PUT"; path = "/v1/collections/" + c + "/docs/" + key; }
            case 1 -> { method = "POST"; path = "/v1/collections/" + c + "/docs"; }
            case 2 -> { method = "PATCH"; path = "/v1/collections/" + c + "/docs/k1"; }
            case 3 -> { method = "POST"; path = "/v1/txn"; }
            case 4 -> { method = "POST"; path = "/v1/collections/" + c + "/query"; }
            case 5 -> { method = "PUT"; path = "/v1/collections/fzq" + r.nextInt(10); }
            default -> { method = "PUT"; path = "/v1/collections/" + c + "/indexes/fzi" + r.nextInt(10); }
        }
        int how = r.nextInt(10);
        if (how == 0) {
            // a well-formed document with a content type the API refuses: must be 415, and nothing written
            String type = pick(r, new String[] {"text/plain", "application/xml", "application/json; charset=iso-8859-1",
                "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json;charset=utf-16", "*/*"});
            byte[] valid = ("{\"v\":\"fuzz-" + index + "\",\"fields\":[\"n\"]}").getBytes(StandardCharsets.UTF_8);
            return request(index, "content type " + type + " for " + method + " " + path, method, path, type, valid, Expect.ANSWER);
        }
        if (how == 1 && target <= 1) {
            // a document over the 1 MiB limit (the request is under the 8 MiB one): 413
            byte[] big = ("{\"v\":\"" + "a".repeat((1 << 20) + r.nextInt(1000)) + "\"}").getBytes(StandardCharsets.UTF_8);
            return request(index, "document over 1 MiB", method, path, "application/json", big, Expect.ANSWER);
        }
        if (how == 2 && r.nextInt(8) == 0) {
            // a request over the 8 MiB limit: 413 (or a close while it is still being sent)
            byte[] huge = ("{\"v\":\"" + "b".repeat((8 << 20) + 10) + "\"}").getBytes(StandardCharsets.UTF_8);
            return request(index, "body over 8 MiB", method, path, "application/json", huge, Expect.ANSWER);
        }
        byte[] body = target == 3 ? invalidTxn(r) : target == 4 ? invalidQuery(r) : target == 5 ? invalidCollectionBody(r)
                : target == 6 ? invalidIndexBody(r) : invalidJsonBody(r);
        return request(index, "bad body for " + method + " " + path + ": " + RawExchange.show(body, 80), method, path,
                "application/json", body, Expect.ANSWER);
    }

    private Case badControlBody(int index, Random r) {
        String[][] bodies = {
            {"POST", "/v1/cluster/members", "{\"id\":5}"},
            {"POST", "/v1/cluster/members", "{\"id\":\"zz1\",\"raftAddress\":\"not-an-address\",\"httpAddress\":\"x\"}"},
            {"POST", "/v1/cluster/members", "{\"id\":\"zz2\",\"raftAddress\":\"127.0.0.1:99999\",\"httpAddress\":\"127.0.0.1:-1\"}"},
            {"POST", "/v1/cluster/members", "{\"id\":\"zz3\",\"raftAddress\":\":80\",\"httpAddress\":\"h:\"}"},
            {"POST", "/v1/cluster/members", "{\"id\":\"\",\"raftAddress\":\"127.0.0.1:1\",\"httpAddress\":\"127.0.0.1:2\"}"},
            {"POST", "/v1/cluster/members", "[]"},
            {"POST", "/v1/cluster/members", "{\"id\":\"zz4\",\"raftAddress\":\"a b:80\",\"httpAddress\":\"c d:81\"}"},
            {"POST", "/v1/cluster/leader", "{\"to\":\"zz-nobody\"}"},
            {"POST", "/v1/cluster/leader", "{\"to\":5}"},
            {"POST", "/v1/cluster/leader", "{}"},
            {"POST", "/v1/cluster/leader", "nope"},
            {"DELETE", "/v1/cluster/members/zz-nobody", ""},
            {"DELETE", "/v1/cluster/members/%ff", ""},
            {"POST", "/v1/cluster", "{}"},
            {"PUT", "/v1/snapshot", "{}"},
            {"GET", "/v1/txn", ""},
        };
        String[] b = bodies[r.nextInt(bodies.length)];
        return request(index, "control " + b[0] + " " + b[1] + " " + b[2], b[0], b[1], "application/json",
                b[2].getBytes(StandardCharsets.UTF_8), Expect.ANSWER);
    }

    private Case badHeaders(int index, Random r) {
        String c = t.collection();
        boolean write = r.nextBoolean();
        String method = write ? "PUT" : "GET";
        String path = write ? "/v1/collections/" + c + "/docs/fzh" : "/v1/collections/" + c + "/docs/k1";
        byte[] body = write ? invalidJsonBody(r) : new byte[0];
        StringBuilder h = new StringBuilder();
        boolean lengthDone = false;
        String what;
        switch (r.nextInt(16)) {
            case 0 -> { what = "a 17 KiB header"; h.append("X-Big: ").append("v".repeat(17_000)).append("\r\n"); }
            case 1 -> { what = "3000 headers"; for (int i = 0; i < 3000; i++) h.append("X-H").append(i).append(": v\r\n"); }
            case 2 -> { what = "a header without a colon"; h.append("Garbage\r\n"); }
            case 3 -> { what = "a header name with a space"; h.append("Bad Name: x\r\n"); }
            case 4 -> { what = "non-ASCII header bytes"; h.append("X-Bin: ").append(new String(randomBytes(r, 20), StandardCharsets.ISO_8859_1)
                    .replace("\r", "").replace("\n", "")).append("\r\n"); }
            case 5 -> { what = "a NUL in a header"; h.append("X-Nul: a\u0000b\r\n"); }
            case 6 -> { what = "obs-fold"; h.append("X-Fold: a\r\n b\r\n"); }
            case 7 -> { what = "Content-Length -1"; h.append("Content-Length: -1\r\n"); lengthDone = true; }
            case 8 -> { what = "Content-Length abc"; h.append("Content-Length: abc\r\n"); lengthDone = true; }
            case 9 -> { what = "two different Content-Lengths"; h.append("Content-Length: ").append(body.length).append("\r\nContent-Length: ")
                    .append(body.length + 5).append("\r\n"); lengthDone = true; }
            case 10 -> { what = "Content-Length 99999999999999999999"; h.append("Content-Length: 99999999999999999999\r\n"); lengthDone = true; }
            case 11 -> { what = "chunked and Content-Length"; h.append("Transfer-Encoding: chunked\r\nContent-Length: ").append(body.length).append("\r\n");
                lengthDone = true; }
            case 12 -> { what = "Transfer-Encoding gzip"; h.append("Transfer-Encoding: gzip\r\n"); }
            case 13 -> { what = "If-Match garbage"; h.append("If-Match: ").append(pick(r, new String[] {"abc", "\"-1\"", "\"\"", "*", "W/\"x\"",
                "\"99999999999999999999\""})).append("\r\n"); }
            case 14 -> { what = "If-None-Match garbage"; h.append("If-None-Match: \"5\"\r\n"); }
            default -> { what = "Expect 999-fly"; h.append("Expect: 999-fly\r\n"); }
        }
        if (!lengthDone && body.length > 0) h.append("Content-Length: ").append(body.length).append("\r\n");
        byte[] head = (method + " " + path + " HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\n" + h + "Connection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        boolean mayWait = what.startsWith("Content-Length") || what.startsWith("two") || what.startsWith("chunked");
        return new Case(index, Channel.HTTP, "headers: " + what + " on " + method, concat(head, body), new byte[0], mayWait,
                Expect.ANSWER, Expect.ANY, 0);
    }

    private Case chunked(int index, Random r) {
        String c = t.collection();
        byte[] body = invalidJsonBody(r);
        String chunks;
        boolean complete = true;
        switch (r.nextInt(6)) {
            case 0 -> chunks = Integer.toHexString(body.length) + "\r\n" + new String(body, StandardCharsets.ISO_8859_1) + "\r\n0\r\n\r\n";
            case 1 -> chunks = "zz\r\nabc\r\n0\r\n\r\n";
            case 2 -> chunks = "-5\r\nabc\r\n0\r\n\r\n";
            case 3 -> { chunks = "ffffffffffffffff\r\nabc"; complete = false; }
            case 4 -> { chunks = "5;\u0000ext\r\nab"; complete = false; }
            default -> { chunks = "3\r\n{\"a\r\n"; complete = false; } // no last chunk
        }
        byte[] head = ("POST /v1/collections/" + c + "/docs HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        return new Case(index, Channel.HTTP, "chunked: " + RawExchange.abbreviate(chunks), concat(head, chunks.getBytes(StandardCharsets.ISO_8859_1)),
                new byte[0], !complete, Expect.ANSWER, Expect.ANY, 0);
    }

    private Case truncated(int index, Random r) {
        String c = t.collection();
        byte[] req;
        String what;
        if (r.nextBoolean()) {
            req = ("GET /v1/collections/" + c + "/docs/k1 HTTP/1.1\r\nHost: cairn\r\nX-Cut: ").getBytes(StandardCharsets.US_ASCII);
            what = "a head cut short";
        } else {
            req = ("PUT /v1/collections/" + c + "/docs/fzt HTTP/1.1\r\nHost: cairn\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"v\":")
                    .getBytes(StandardCharsets.US_ASCII);
            what = "a body shorter than its Content-Length";
        }
        return new Case(index, Channel.HTTP, what + ", then half-closed", req, new byte[0], true, Expect.ANSWER, Expect.ANY, 0);
    }

    private Case pipelined(int index, Random r) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int n = 2 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            Case one = r.nextBoolean() ? badPath(index, r) : badBody(index, r);
            if (one.bytes().length > 100_000) continue;
            all.writeBytes(one.bytes());
        }
        all.writeBytes(("GET /v1/cluster HTTP/1.1\r\nHost: cairn\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        return new Case(index, Channel.HTTP, n + " pipelined bad requests", all.toByteArray(), new byte[0], false, Expect.ANSWER, Expect.ANY, 0);
    }

    private Case badQuery(int index, Random r) {
        String path = String.format(pick(r, READ_PATHS), t.collection());
        String q = pick(r, BAD_QUERIES);
        path = path + (path.contains("?") ? "&" : "?") + q;
        return request(index, "query " + path, "GET", path, null, new byte[0], Expect.ANSWER);
    }

    private Case badLongPoll(int index, Random r) {
        String[] qs = {"after=abc", "limit=0", "limit=99999999", "waitMs=-1", "waitMs=abc", "collection=%ff", "key=x",
            "after=-1", "after=9999999999999999999999", "collection=1bad", "collection=" + t.collection() + "&key=%ff",
            "after=0&limit=1&waitMs=10&collection=" + t.collection(), "prev=maybe", "after=", "limit="};
        String path = "/v1/changes?" + pick(r, qs);
        return request(index, "long poll " + path, "GET", path, null, new byte[0], Expect.ANSWER);
    }

    private Case request(int index, String what, String method, String path, String contentType, byte[] body, Expect expect) {
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: cairn\r\n");
        if (contentType != null && body.length > 0) head.append("Content-Type: ").append(contentType).append("\r\n");
        if (body.length > 0 || method.equals("PUT") || method.equals("POST") || method.equals("PATCH")) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        return new Case(index, Channel.HTTP, what, concat(head.toString().getBytes(StandardCharsets.UTF_8), body), new byte[0], false,
                expect, Expect.ANY, 0);
    }

    // ------------------------------------------------------------------ bodies

    /** A request body that is not a JSON object (API.md: 400 invalid_json, 413 or 415): never valid, never empty. */
    byte[] invalidJsonBody(Random r) {
        return switch (r.nextInt(12)) {
            case 0 -> randomBytes(r, 1 + r.nextInt(300));
            case 1 -> utf8(pick(r, new String[] {"{\"a\":", "{\"v\":1", "{", "{\"v\":\"abc", "{\"v\":[1,2", "{\"v\":{\"w\":1}"}));
            case 2 -> deepNesting(r);
            case 3 -> invalidUtf8InString(r);
            case 4 -> utf8(pick(r, new String[] {"{\"v\":NaN}", "{\"v\":Infinity}", "{\"v\":-Infinity}", "{\"v\":undefined}",
                "{'v':1}", "{\"v\":1,}", "{\"v\":1}//c", "{\"v\":1} x", "{\"v\":01}", "{\"v\":\"\\u00\"}", "{\"v\":\"tab\there\"}",
                "{\"v\":\"\\x41\"}", "{v:1}", "{\"v\":.5}", "{\"v\":1.}", "{\"v\":+1}", "{\"v\":0x10}", "{\"v\":tru}",
                "{\"v\":\"a\"\"b\"}", "{\"v\" 1}", "{,}", "{\"v\":1}}", "/*c*/{\"v\":1}", "{\"v\":\"\u0001\"}"}));
            case 5 -> utf8(pick(r, new String[] {"[1]", "\"s\"", "1", "null", "true", "[]", "[{\"v\":1}]", "0", "-1e9"}));
            case 6 -> concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, "{\"v\":1}".getBytes(StandardCharsets.UTF_16LE));
            case 7 -> concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8("{\"v\":1"));
            case 8 -> "{\"v\":1}".getBytes(StandardCharsets.UTF_16BE);
            case 9 -> utf8(" \t\r\n ");
            case 10 -> concat(utf8("{\"v\":1}"), new byte[] {0});
            default -> utf8("{\"v\":\"" + "\\".repeat(1 + 2 * r.nextInt(3)) + "\"}"); // an odd run of backslashes: unterminated
        };
    }

    private byte[] deepNesting(Random r) {
        int depth = 100 + r.nextInt(r.nextBoolean() ? 1000 : 200_000);
        boolean close = r.nextBoolean();
        if (r.nextBoolean()) {
            String open = "{\"v\":" + "[".repeat(depth);
            return utf8(open + (close ? "]".repeat(depth) + "}" : ""));
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) sb.append("{\"a\":");
        sb.append("1");
        if (close) sb.append("}".repeat(depth)); // closed, it is still 100+ levels deep: over the 64-level limit
        return utf8(sb.toString());
    }

    private static byte[] invalidUtf8InString(Random r) {
        byte[][] bad = {
            {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xFF}, {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
            {(byte) 0x80}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xC3},
            {(byte) 0xFE, (byte) 0xFF}, {(byte) 0xE0, (byte) 0x80, (byte) 0x80},
        };
        byte[] b = bad[r.nextInt(bad.length)];
        return concat(concat(utf8("{\"v\":\"ok"), b), utf8("\"}"));
    }

    private byte[] invalidTxn(Random r) {
        String c = t.collection();
        String[] bodies = {
            "{\"ops\":5}", "{\"ops\":[{\"op\":\"frob\",\"collection\":\"" + c + "\",\"key\":\"k\"}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"1bad\",\"key\":\"k\",\"doc\":{}}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"\",\"doc\":{}}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"k\",\"doc\":[1]}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"k\",\"doc\":{},\"ifRev\":\"abc\"}]}",
            "{\"ops\":[{\"op\":\"check\",\"collection\":\"" + c + "\",\"key\":\"k\",\"rev\":-1}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"" + c + "\",\"doc\":{}}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"k\",\"doc\":{}}, 7]}",
            "{\"ops\":[{\"op\":\"insert\",\"collection\":\"" + c + "\",\"doc\":\"x\"}]}",
            "{\"ops\":[{\"op\":\"patch\",\"collection\":\"" + c + "\",\"key\":\"k1\",\"patch\":{}},{\"op\":\"put\"}]}",
            "{\"ops\":[{\"op\":\"put\",\"collection\":\"" + c + "\",\"key\":\"" + "k".repeat(513) + "\",\"doc\":{}}]}",
            "{\"opz\":[]}", "{\"ops\":null}", "{\"ops\":[null]}",
        };
        if (r.nextInt(15) == 0) {
            StringBuilder sb = new StringBuilder("{\"ops\":[");
            int n = 10_001 + r.nextInt(100);
            for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ",").append("{\"op\":\"frob\"}");
            return utf8(sb.append("]}").toString());
        }
        return r.nextInt(3) == 0 ? invalidJsonBody(r) : utf8(pick(r, bodies));
    }

    private byte[] invalidQuery(Random r) {
        String i = t.index();
        String[] bodies = {
            "{\"index\":\"nope\",\"eq\":[1]}", "{\"index\":\"" + i + "\",\"range\":{\"gte\":\"x\",\"frob\":1}}",
            "{\"index\":\"" + i + "\",\"eq\":[1],\"limit\":-1}", "{\"index\":\"" + i + "\",\"eq\":[1],\"order\":\"sideways\"}",
            "{\"index\":\"" + i + "\",\"eq\":[1],\"after\":\"%%%\"}", "{\"index\":\"" + i + "\"}", "{\"eq\":[1]}",
            "{\"index\":\"" + i + "\",\"eq\":[1],\"range\":{\"gt\":[1]}}", "{\"index\":\"" + i + "\",\"eq\":[1e999999]}",
            "{\"index\":\"" + i + "\",\"eq\":[123456789012345678901234567890]}", "{\"index\":\"" + i + "\",\"eq\":[1],\"limit\":100000}",
            "{\"index\":\"" + i + "\",\"range\":{\"gte\":[1,2,3,4,5,6,7,8,9]}}", "{\"index\":\"1bad\",\"eq\":[1]}",
            "{\"index\":\"" + i + "\",\"eq\":[{\"a\":1}]}", "{\"index\":\"" + i + "\",\"eq\":[1],\"count\":\"yes\"}",
        };
        return r.nextInt(3) == 0 ? invalidJsonBody(r) : utf8(pick(r, bodies));
    }

    /** A body for {@code PUT /v1/collections/{c}} whose index list is invalid (unknown fields alone would be ignored). */
    private byte[] invalidCollectionBody(Random r) {
        String[] bodies = {
            "{\"indexes\":[{\"name\":\"1bad\",\"fields\":[\"a\"]}]}", "{\"indexes\":5}", "{\"indexes\":[{\"name\":\"ok\"}]}",
            "{\"indexes\":[{\"name\":\"ok\",\"fields\":[]}]}", "{\"indexes\":[{\"name\":\"ok\",\"fields\":\"a\"}]}",
            "{\"indexes\":[{\"name\":\"ok\",\"fields\":[\"a\"],\"unique\":\"yes\"}]}", "{\"indexes\":[null]}",
            "{\"indexes\":[{\"name\":\"" + "x".repeat(65) + "\",\"fields\":[\"a\"]}]}", "{\"indexes\":\"by_n\"}",
            "{\"indexes\":[{\"name\":\"a\",\"fields\":[\"x\"]},{\"name\":\"a\",\"fields\":[\"y\"]}]}",
        };
        return r.nextInt(3) == 0 ? invalidJsonBody(r) : utf8(pick(r, bodies));
    }

    /** A body for {@code PUT .../indexes/{i}} that is not a valid index definition. */
    private byte[] invalidIndexBody(Random r) {
        String[] bodies = {
            "{\"fields\":[]}", "{\"fields\":\"a\"}", "{\"fields\":[\"a\"],\"unique\":\"yes\"}", "{\"fields\":[5]}",
            "{\"fields\":[\"\"]}", "{\"fields\":[\"a..b\"]}", "{\"fields\":[" + "\"f\",".repeat(100) + "\"f\"]}", "{}",
            "{\"fields\":null}", "{\"fields\":[[\"a\"]]}",
        };
        return r.nextInt(3) == 0 ? invalidJsonBody(r) : utf8(pick(r, bodies));
    }

    // ------------------------------------------------------------------ WebSocket

    private Case ws(int index, Random r) {
        String c = t.collection();
        boolean badHandshake = r.nextInt(3) == 0;
        String query = "collection=" + c + "&after=0";
        String version = "13";
        String key = Base64.getEncoder().encodeToString(randomBytes(r, 16));
        String upgrade = "websocket";
        String path = "/v1/changes";
        String what;
        if (badHandshake) {
            switch (r.nextInt(8)) {
                case 0 -> { query = pick(r, new String[] {"after=abc", "after=-5", "after=99999999999999999999", "collection=%ff",
                    "collection=1bad", "key=x", "collection=" + c + "&key=%c0%80", "after=%"}); what = "ws params " + query; }
                case 1 -> { version = pick(r, new String[] {"99", "abc", "8", ""}); what = "ws version " + version; }
                case 2 -> { key = pick(r, new String[] {"", "short", "!!!!"}); what = "ws key " + key; }
                case 3 -> { upgrade = "websocketx"; what = "ws upgrade websocketx"; }
                case 4 -> { path = "/v1/collections"; what = "ws upgrade on a plain route"; }
                case 5 -> { path = "/v1/changes/" + pick(r, BAD_SEGMENTS); what = "ws on a bad path"; }
                case 6 -> { key = null; what = "ws without a key"; }
                default -> { version = null; what = "ws without a version"; }
            }
        } else {
            what = "ws frames";
        }
        StringBuilder h = new StringBuilder("GET ").append(path).append('?').append(query).append(" HTTP/1.1\r\nHost: cairn\r\n")
                .append("Upgrade: ").append(upgrade).append("\r\nConnection: Upgrade\r\n");
        if (key != null) h.append("Sec-WebSocket-Key: ").append(key).append("\r\n");
        if (version != null) h.append("Sec-WebSocket-Version: ").append(version).append("\r\n");
        h.append("\r\n");
        byte[] handshake = h.toString().getBytes(StandardCharsets.UTF_8);
        if (badHandshake) return new Case(index, Channel.WS, what, handshake, new byte[0], false, Expect.ANSWER, Expect.ANY, 0);
        WsFrames f = wsFrames(r);
        return new Case(index, Channel.WS, what + ": " + f.what(), handshake, f.bytes(), false, Expect.ANSWER, f.violation() ? Expect.CLOSE : Expect.ANY, 0);
    }

    private record WsFrames(String what, byte[] bytes, boolean violation) {}

    private static WsFrames wsFrames(Random r) {
        return switch (r.nextInt(12)) {
            case 0 -> new WsFrames("random bytes", randomBytes(r, 1 + r.nextInt(500)), false); // may parse as anything
            case 1 -> new WsFrames("text with invalid UTF-8", wsFrame(0x81, true, new byte[] {(byte) 0xC0, (byte) 0xAF, 'x'}), true);
            case 2 -> new WsFrames("unmasked text", wsFrame(0x81, false, utf8("{\"x\":1}")), true);
            case 3 -> new WsFrames("reserved opcode 3", wsFrame(0x83, true, utf8("x")), true);
            case 4 -> new WsFrames("RSV bits set", wsFrame(0xF1, true, utf8("x")), true);
            case 5 -> new WsFrames("ping of 200 bytes", wsFrame(0x89, true, new byte[200]), true);
            case 6 -> new WsFrames("fragmented ping", wsFrame(0x09, true, utf8("p")), true);
            case 7 -> new WsFrames("a length of 2^63-1", concat(new byte[] {(byte) 0x82, (byte) 0xFF, 0x7F, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4},
                    new byte[64]), true);
            case 8 -> new WsFrames("continuation without a start", wsFrame(0x80, true, utf8("x")), true);
            case 9 -> new WsFrames("close code " + 999, wsFrame(0x88, true, new byte[] {0x03, (byte) 0xE7}), true);
            case 10 -> new WsFrames("text frames of garbage JSON", concat(wsFrame(0x81, true, utf8("{\"type\":\"frob\"")),
                    wsFrame(0x81, true, utf8("x".repeat(r.nextInt(5000))))), false);
            default -> new WsFrames("binary frame", wsFrame(0x82, true, randomBytes(r, 1 + r.nextInt(100))), false);
        };
    }

    /** One client frame: {@code first} is FIN/RSV/opcode, the payload masked when {@code masked}. */
    static byte[] wsFrame(int first, boolean masked, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(first);
        int maskBit = masked ? 0x80 : 0;
        if (payload.length < 126) {
            out.write(maskBit | payload.length);
        } else if (payload.length < 65_536) {
            out.write(maskBit | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length & 0xff);
        } else {
            out.write(maskBit | 127);
            out.writeBytes(ByteBuffer.allocate(8).putLong(payload.length).array());
        }
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        if (masked) out.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) out.write(masked ? payload[i] ^ mask[i & 3] : payload[i]);
        return out.toByteArray();
    }

    // ------------------------------------------------------------------ peer port

    /** A peer-port case for the node whose id is {@code self}. */
    private Case peer(int index, Random r, String self) {
        String fake = "zz-fuzz-" + index;
        switch (r.nextInt(12)) {
            case 0, 1:
                return peerCase(index, "random bytes", randomBytes(r, 1 + r.nextInt(2000)), Expect.CLOSE);
            case 2:
                return peerCase(index, "length 2^31-1", concat(intBytes(Integer.MAX_VALUE), randomBytes(r, 10)), Expect.CLOSE);
            case 3:
                return peerCase(index, "length " + pick(r, new String[] {"-1", "0"}), intBytes(r.nextBoolean() ? -1 : 0), Expect.CLOSE);
            case 4:
                return peerCase(index, "frame version 2", concat(intBytes(5), new byte[] {2, 1, 2, 3, 4}), Expect.CLOSE);
            case 5:
                return peerCase(index, "hello of another cluster", hello("other-" + t.clusterId(), fake), Expect.CLOSE);
            case 6:
                return peerCase(index, "hello claiming the node's own id", hello(t.clusterId(), self), Expect.CLOSE);
            case 7: {
                byte[][] bad = {
                    frame(concat(intBytes(0x12345678), utf8("xx"))), frame(new byte[] {0x43, 0x41}),
                    frame(concat(hello(t.clusterId(), fake), new byte[] {9})), frame(concat(intBytes(0x4341524E), new byte[] {(byte) 0xFF, (byte) 0xFF})),
                    frame(concat(intBytes(0x4341524E), new byte[] {0, 0, 0, 0})), frame(concat(intBytes(0x4341524E),
                        concat(new byte[] {0, 2, (byte) 0xC0, (byte) 0xAF}, new byte[] {0, 1, 'x'}))),
                };
                return peerCase(index, "malformed hello", bad[r.nextInt(bad.length)], Expect.CLOSE);
            }
            default: {
                // a hello the node accepts, frames it reads and drops, then a frame over the limit (closes)
                String id = r.nextInt(10) == 0 && !t.memberIds().isEmpty() ? pick(r, t.memberIds().toArray(new String[0])) : fake;
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(hello(t.clusterId(), id));
                int n = 1 + r.nextInt(20);
                for (int i = 0; i < n; i++) out.writeBytes(frame(peerPayload(r)));
                out.writeBytes(intBytes((16 << 20) + 2 + r.nextInt(1000)));
                return peerCase(index, "hello as " + id + ", " + n + " garbage frames, then an oversized one", out.toByteArray(), Expect.CLOSE);
            }
        }
    }

    private static byte[] peerPayload(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> concat(new byte[] {0}, randomBytes(r, r.nextInt(200))); // RAFT, random message
            case 1 -> concat(new byte[] {0, 1, (byte) r.nextInt(12)}, randomBytes(r, r.nextInt(100))); // codec version 1, random kind
            case 2 -> concat(concat(new byte[] {1}, longBytes(r.nextLong())), pick(r, new byte[][] {
                utf8("{\"op\":\"frob\"}"), utf8("{"), new byte[] {(byte) 0xFF, (byte) 0xFE}, utf8("[]"), utf8("{\"op\":\"put\"}")})); // FORWARD_REQUEST
            case 3 -> concat(concat(new byte[] {2}, longBytes(r.nextLong())), randomBytes(r, r.nextInt(50))); // FORWARD_RESPONSE
            default -> randomBytes(r, r.nextInt(100));
        };
    }

    private Case peerCase(int index, String what, byte[] bytes, Expect expect) {
        return new Case(index, Channel.PEER, "peer: " + what, bytes, new byte[0], false, expect, Expect.ANY, 0);
    }

    static byte[] hello(String clusterId, String nodeId) {
        byte[] c = utf8(clusterId);
        byte[] n = utf8(nodeId);
        ByteBuffer b = ByteBuffer.allocate(4 + 2 + c.length + 2 + n.length);
        b.putInt(0x4341524E).putShort((short) c.length).put(c).putShort((short) n.length).put(n);
        return frame(b.array());
    }

    static byte[] frame(byte[] payload) {
        return concat(concat(intBytes(payload.length + 1), new byte[] {1}), payload);
    }

    // ------------------------------------------------------------------ helpers

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] intBytes(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static String randomToken(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append((char) ('A' + r.nextInt(26)));
        return sb.toString();
    }

    private static <T> T pick(Random r, T[] options) {
        return options[r.nextInt(options.length)];
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "...(" + s.length() + " chars)" : s;
    }

    static List<String> describe(List<Case> cases) {
        List<String> out = new ArrayList<>();
        for (Case c : cases) out.add("#" + c.index() + " " + c.channel() + " " + c.what());
        return out;
    }

    /** Whether a peer case says hello with the id of a real member (it then replaces that member's connection). */
    static boolean posesAsMember(Case c, List<String> memberIds) {
        if (c.channel() != Channel.PEER) return false;
        for (String id : memberIds) {
            if (c.what().startsWith("peer: hello as " + id + ",")) return true;
        }
        return false;
    }
}
