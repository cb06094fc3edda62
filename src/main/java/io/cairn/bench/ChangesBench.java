package io.cairn.bench;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code cairn bench changes}: N WebSocket subscribers on one node while writes commit at a fixed
 * rate through another (or the same) node. Every write carries its send time; every subscriber
 * records, per change it receives, the time from that send to its receipt (an upper bound of
 * commit-to-receipt: it includes the write's own commit). Checks on the way that each subscriber
 * sees revisions in order without repeats, and counts what never arrived. Client and nodes share
 * the host's monotonic clock, so run it on the same machine as the node it subscribes to.
 */
public final class ChangesBench {
    static final String USAGE = String.join("\n",
            "usage: cairn bench changes [options]",
            "  --target HOST:PORT        node the subscribers connect to (default 127.0.0.1:8080)",
            "  --write HOST:PORT         node the writes go to (default: --target)",
            "  --subscribers N           WebSocket subscribers (default 1000)",
            "  --rate R                  writes per second (default 1000)",
            "  --duration SECONDS        how long writes are measured (default 10)",
            "  --warmup SECONDS          writes sent before, not measured (default 30: a cold client backs writes up for 10-20 s)",
            "  --connections N           HTTP connections for the writes (default 64)",
            "  --threads N               client event loops (default: CPUs)",
            "  --drain SECONDS           how long to wait for the last deliveries (default 30)");

    private ChangesBench() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        BenchOptions.Target target = new BenchOptions.Target("127.0.0.1", 8080);
        BenchOptions.Target write = null;
        int subscribers = 1000;
        int rate = 1000;
        int seconds = 10;
        int connections = 64;
        int threads = Runtime.getRuntime().availableProcessors();
        int drain = 30;
        int warmup = 30;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    out.println(USAGE);
                    return 0;
                }
                if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
                String v = args[++i];
                switch (a) {
                    case "--target" -> target = BenchOptions.target(v);
                    case "--write" -> write = BenchOptions.target(v);
                    case "--subscribers" -> subscribers = positive(a, v);
                    case "--rate" -> rate = positive(a, v);
                    case "--duration" -> seconds = positive(a, v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
                    case "--connections" -> connections = positive(a, v);
                    case "--threads" -> threads = positive(a, v);
                    case "--drain" -> drain = positive(a, v);
                    case "--warmup" -> warmup = Integer.parseInt(v.endsWith("s") ? v.substring(0, v.length() - 1) : v);
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("cairn bench changes: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(threads));
        try {
            return new Run(vertx, out, target, write == null ? target : write, subscribers, rate,
                    seconds, warmup, connections, drain).execute();
        } catch (Exception e) {
            err.println("cairn bench changes: " + e);
            return 1;
        } finally {
            try {
                vertx.close().await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                err.println("cairn bench changes: closing the client: " + e);
            }
        }
    }

    private static int positive(String name, String v) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // falls through to the error below
        }
        throw new IllegalArgumentException(name + " must be a positive integer: " + v);
    }

    /** One subscriber's view: the last revision seen, and what broke the promises. */
    private static final class Sub {
        long lastRev;
        long received;
    }

    /** A write slower than this marks its second in the report. */
    static final long SLOW_MILLIS = 250;

    private static final class Run {
        final Vertx vertx;
        final PrintStream out;
        final BenchOptions.Target target;
        final BenchOptions.Target write;
        final int subscribers;
        final int rate;
        final int seconds;
        final int connections;
        final int drain;
        final int warmup;
        /** Writes sent before this are warm-up: delivered and checked, but their lag is not recorded. */
        volatile long measureFrom = Long.MAX_VALUE;
        final LatencyHistogram lag = new LatencyHistogram();
        final LatencyHistogram ackLatency = new LatencyHistogram();
        /** Receipt minus the write's answer (0 when the change arrived first): the lag the fan-out adds to a commit. */
        final LatencyHistogram afterAck = new LatencyHistogram();
        /** When each write was answered (0: not yet); indexed by the write's number. */
        java.util.concurrent.atomic.AtomicLongArray ackNanos;
        /** The slowest answer among the writes sent in each second, in ms (to see when a stall happened). */
        java.util.concurrent.atomic.AtomicLongArray slowestBySecond;
        final AtomicLong received = new AtomicLong();
        final AtomicLong outOfOrder = new AtomicLong();
        final AtomicLong acked = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final java.util.Map<String, Long> failures = new java.util.concurrent.ConcurrentHashMap<>();

        Run(Vertx vertx, PrintStream out, BenchOptions.Target target, BenchOptions.Target write, int subscribers, int rate, int seconds,
            int warmup, int connections, int drain) {
            this.warmup = warmup;
            this.vertx = vertx;
            this.out = out;
            this.target = target;
            this.write = write;
            this.subscribers = subscribers;
            this.rate = rate;
            this.seconds = seconds;
            this.connections = connections;
            this.drain = drain;
        }

        int execute() throws Exception {
            String collection = "changes-bench-" + Long.toHexString(System.nanoTime());
            List<Sub> subs = new ArrayList<>();
            WebSocketClient ws = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(subscribers + 1));
            long connectStarted = System.nanoTime();
            List<Future<?>> connecting = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                Sub sub = new Sub();
                subs.add(sub);
                connecting.add(ws.connect(target.port(), target.host(), "/v1/changes?collection=" + collection)
                        .onSuccess(socket -> socket.textMessageHandler(t -> onFrame(sub, t))));
                if (connecting.size() >= 100) {
                    Future.all(connecting).await(60, TimeUnit.SECONDS);
                    connecting.clear();
                }
            }
            Future.all(connecting).await(60, TimeUnit.SECONDS);
            out.printf(Locale.ROOT, "%d subscribers connected to %s:%d in %.1f s%n", subscribers, target.host(), target.port(),
                    (System.nanoTime() - connectStarted) / 1e9);

            // The writer has its own event loop: answers to writes must not wait behind the frames the
            // subscribers' loops are busy reading, or the write latency would measure the client.
            Vertx writerVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
            try {
                return measure(subs, collection, writerVertx);
            } finally {
                writerVertx.close().await(30, TimeUnit.SECONDS);
            }
        }

        private int measure(List<Sub> subs, String collection, Vertx writerVertx) throws Exception {
            HttpClient http = writerVertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setIdleTimeout(0),
                    new PoolOptions().setHttp1MaxSize(connections));
            long writes = (long) rate * (seconds + warmup);
            if (writes > 100_000_000L) throw new IllegalArgumentException("rate x (duration + warmup) must be at most 100,000,000 writes");
            ackNanos = new java.util.concurrent.atomic.AtomicLongArray((int) writes);
            slowestBySecond = new java.util.concurrent.atomic.AtomicLongArray(seconds + warmup + 1);
            long warmupStarted = System.nanoTime();
            long started = warmupStarted + TimeUnit.SECONDS.toNanos(warmup);
            measureFrom = started;
            for (long i = 0; i < writes; i++) {
                long due = warmupStarted + i * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
                long sentNanos = System.nanoTime();
                int index = (int) i;
                String body = "{\"sentNanos\":" + sentNanos + ",\"i\":" + i + "}";
                http.request(HttpMethod.PUT, write.port(), write.host(), "/v1/collections/" + collection + "/docs/k" + (i % 1000))
                        .compose(req -> req.putHeader("Content-Type", "application/json").send(Buffer.buffer(body)))
                        .onComplete(ar -> {
                            if (ar.succeeded() && ar.result().statusCode() / 100 == 2) {
                                long answered = System.nanoTime();
                                ackNanos.set(index, answered);
                                slowestBySecond.accumulateAndGet((int) Math.min(slowestBySecond.length() - 1,
                                        (sentNanos - warmupStarted) / 1_000_000_000L), (answered - sentNanos) / 1_000_000, Math::max);
                                acked.incrementAndGet();
                                if (sentNanos >= started) synchronized (ackLatency) {
                                    ackLatency.record(System.nanoTime() - sentNanos);
                                }
                            } else {
                                failed.incrementAndGet();
                                failures.merge(ar.succeeded() ? "HTTP " + ar.result().statusCode() : ar.cause().getClass().getSimpleName(),
                                        1L, Long::sum);
                            }
                        });
            }
            long sendEnd = System.nanoTime();
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(drain);
            while (acked.get() + failed.get() < writes && System.nanoTime() < waitUntil) Thread.sleep(10);
            long expected = acked.get() * subscribers;
            while (received.get() < expected && System.nanoTime() < waitUntil) Thread.sleep(10);
            double elapsed = (System.nanoTime() - warmupStarted) / 1e9;
            long lagging = 0;
            for (Sub s : subs) {
                synchronized (s) {
                    if (s.received < acked.get()) lagging++;
                }
            }
            synchronized (lag) {
                out.printf(Locale.ROOT, "writes: %d sent at %d/s over %.1f s (the first %d s not measured), %d acknowledged, %d failed%n",
                        writes, rate, (sendEnd - warmupStarted) / 1e9, warmup, acked.get(), failed.get());
                if (!failures.isEmpty()) out.println("write failures: " + failures);
                synchronized (ackLatency) {
                    out.printf(Locale.ROOT, "write latency (send to answer), ms: p50 %.2f  p99 %.2f  max %.2f%n",
                            ackLatency.valueAtPercentile(50) / 1e6, ackLatency.valueAtPercentile(99) / 1e6, ackLatency.max() / 1e6);
                }
                StringBuilder slow = new StringBuilder();
                for (int sec = 0; sec < slowestBySecond.length(); sec++) {
                    if (slowestBySecond.get(sec) >= SLOW_MILLIS) slow.append(" +").append(sec).append("s:").append(slowestBySecond.get(sec));
                }
                out.println("seconds (from the first write sent) whose slowest write took " + SLOW_MILLIS + " ms or more, ms:"
                        + (slow.length() == 0 ? " none" : slow));
                out.printf(Locale.ROOT, "deliveries: %d of %d (acknowledged writes x subscribers) within %.1f s of the first write;"
                        + " %d subscribers short; %d out of order or repeated%n", received.get(), expected, elapsed, lagging,
                        outOfOrder.get());
                out.printf(Locale.ROOT, "lag from a write's send to its receipt, ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f%n",
                        lag.valueAtPercentile(50) / 1e6, lag.valueAtPercentile(90) / 1e6, lag.valueAtPercentile(99) / 1e6,
                        lag.valueAtPercentile(99.9) / 1e6, lag.max() / 1e6);
                out.printf(Locale.ROOT, "lag from a write's answer to its receipt (0 if the change came first), ms: p50 %.2f  p90 %.2f"
                        + "  p99 %.2f  p99.9 %.2f  max %.2f%n", afterAck.valueAtPercentile(50) / 1e6, afterAck.valueAtPercentile(90) / 1e6,
                        afterAck.valueAtPercentile(99) / 1e6, afterAck.valueAtPercentile(99.9) / 1e6, afterAck.max() / 1e6);
            }
            boolean ok = received.get() == expected && outOfOrder.get() == 0 && failed.get() == 0;
            return ok ? 0 : 3;
        }

        /** Reads the two numbers it needs without a JSON parse: the client must stay cheaper than the server. */
        void onFrame(Sub sub, String text) {
            long now = System.nanoTime();
            if (!text.startsWith("{\"type\":\"change\"")) return;
            long rev = number(text, "\"rev\":");
            long sent = number(text, "\"sentNanos\":");
            long index = number(text, "\"i\":");
            synchronized (sub) {
                if (rev <= sub.lastRev) outOfOrder.incrementAndGet();
                sub.lastRev = rev;
                sub.received++;
            }
            received.incrementAndGet();
            if (sent >= measureFrom) {
                long answered = index >= 0 && index < ackNanos.length() ? ackNanos.get((int) index) : 0;
                synchronized (lag) {
                    lag.record(Math.max(0, now - sent));
                    afterAck.record(answered == 0 ? 0 : Math.max(0, now - answered));
                }
            }
        }

        private static long number(String text, String field) {
            int at = text.indexOf(field);
            if (at < 0) return -1;
            long v = 0;
            for (int i = at + field.length(); i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < '0' || c > '9') break;
                v = v * 10 + (c - '0');
            }
            return v;
        }
    }
}
