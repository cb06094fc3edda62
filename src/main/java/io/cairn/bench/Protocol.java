package io.cairn.bench;

import io.cairn.bench.BenchOptions.Consistency;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The requests of one target API. Keys are {@code <prefix><n, zero-padded to 8 digits>} and values are
 * {@code value-size} random letters and digits, as in {@code shared/bench} (wrk and preload.py), so
 * both tools and both stores see the same keys and values.
 */
abstract class Protocol {
    enum Op { PUT, GET, QUERY }

    /** One HTTP request; {@code body} null for none. */
    record Req(HttpMethod method, String uri, Buffer body) {}

    /** A request that prepares the target, with the statuses that count as success. */
    record SetupReq(Req req, int... okStatuses) {}

    protected final BenchOptions o;
    protected final String prefix;
    protected final String value;

    Protocol(BenchOptions o, String value) {
        this.o = o;
        this.prefix = o.keyPrefix;
        this.value = value;
    }

    static Protocol of(BenchOptions o) {
        String value = randomValue(o.valueSize, new SplittableRandom(o.seed));
        return o.kind == BenchOptions.Kind.ETCD ? new Etcd(o, value) : new Cairn(o, value);
    }

    static String randomValue(int size, SplittableRandom rnd) {
        String chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char[] v = new char[size];
        for (int i = 0; i < size; i++) v[i] = chars.charAt(rnd.nextInt(chars.length()));
        return new String(v);
    }

    /** {@code prefix + n} with n zero-padded to 8 digits (longer if needed), as preload.py and kv.lua do. */
    static String key(String prefix, long n) {
        String digits = Long.toString(n);
        StringBuilder s = new StringBuilder(prefix.length() + Math.max(8, digits.length()));
        s.append(prefix);
        for (int i = digits.length(); i < 8; i++) s.append('0');
        return s.append(digits).toString();
    }

    String key(long n) {
        return key(prefix, n);
    }

    abstract Req put(long n);

    abstract Req get(long n);

    /** A range of {@code o.queryLimit} documents starting at key/number {@code from}. */
    abstract Req query(long from);

    /** Requests to run once before the preload (e.g. create the index a query needs). */
    abstract List<SetupReq> setup();

    /**
     * Null if a response means success, else the error label to count it under. The body is checked
     * where a 2xx can still mean "not found" (etcd's range answers 200 without {@code kvs}).
     */
    String verdict(Op op, long n, int status, Buffer body) {
        if (status < 200 || status > 299) return String.valueOf(status);
        return null;
    }

    /** Cairn's HTTP API (shared/API.md). */
    static final class Cairn extends Protocol {
        static final String INDEX = "by_n";
        private final String docs;
        private final String readQuery;

        Cairn(BenchOptions o, String value) {
            super(o, value);
            this.docs = "/v1/collections/" + o.collection + "/docs/";
            this.readQuery = "?consistency=" + BenchOptions.lower(o.consistency);
        }

        private String path(long n) {
            return docs + percentEncode(key(n));
        }

        @Override
        Req put(long n) {
            String body = "{\"n\":" + n + ",\"value\":\"" + value + "\"}";
            return new Req(HttpMethod.PUT, path(n), Buffer.buffer(body));
        }

        @Override
        Req get(long n) {
            return new Req(HttpMethod.GET, path(n) + readQuery, null);
        }

        @Override
        Req query(long from) {
            String body = "{\"index\":\"" + INDEX + "\",\"range\":{\"gte\":[" + from + "],\"lt\":[" + (from + o.queryLimit)
                    + "]},\"limit\":" + o.queryLimit + "}";
            return new Req(HttpMethod.POST, "/v1/collections/" + o.collection + "/query" + readQuery, Buffer.buffer(body));
        }

        @Override
        List<SetupReq> setup() {
            if (o.workload != BenchOptions.Workload.QUERY) return List.of();
            String c = "/v1/collections/" + o.collection;
            return List.of(
                    // 409: the collection exists with another definition; the index request below decides
                    new SetupReq(new Req(HttpMethod.PUT, c, null), 409),
                    new SetupReq(new Req(HttpMethod.PUT, c + "/indexes/" + INDEX,
                            Buffer.buffer("{\"fields\":[\"n\"],\"unique\":false}"))));
        }
    }

    /** etcd 3.4's JSON gateway (gRPC-gateway): base64 keys and values. */
    static final class Etcd extends Protocol {
        private final String valueB64;
        private final String serializable;
        private final boolean expectKvs;

        Etcd(BenchOptions o, String value) {
            super(o, value);
            this.valueB64 = b64(value);
            this.serializable = o.consistency == Consistency.LOCAL ? ",\"serializable\":true" : "";
            this.expectKvs = o.preload > 0;
        }

        static String b64(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        Req put(long n) {
            return new Req(HttpMethod.POST, "/v3/kv/put",
                    Buffer.buffer("{\"key\":\"" + b64(key(n)) + "\",\"value\":\"" + valueB64 + "\"}"));
        }

        @Override
        Req get(long n) {
            return new Req(HttpMethod.POST, "/v3/kv/range", Buffer.buffer("{\"key\":\"" + b64(key(n)) + "\"" + serializable + "}"));
        }

        @Override
        Req query(long from) {
            return new Req(HttpMethod.POST, "/v3/kv/range", Buffer.buffer("{\"key\":\"" + b64(key(from)) + "\",\"range_end\":\""
                    + b64(key(from + o.queryLimit)) + "\",\"limit\":" + o.queryLimit + serializable + "}"));
        }

        @Override
        List<SetupReq> setup() {
            return List.of();
        }

        @Override
        String verdict(Op op, long n, int status, Buffer body) {
            String v = super.verdict(op, n, status, body);
            if (v != null || op == Op.PUT || !expectKvs) return v;
            // reads go to preloaded keys: a 200 without "kvs" is a miss
            return contains(body, "\"kvs\"") ? null : "200-empty";
        }
    }

    static boolean contains(Buffer body, String needle) {
        if (body == null) return false;
        byte[] n = needle.getBytes(StandardCharsets.US_ASCII);
        int len = body.length();
        outer:
        for (int i = 0; i + n.length <= len; i++) {
            for (int j = 0; j < n.length; j++) {
                if (body.getByte(i + j) != n[j]) continue outer;
            }
            return true;
        }
        return false;
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters, as a path segment. */
    static String percentEncode(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return out.toString();
    }
}
