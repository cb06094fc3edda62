package io.cairn.bench;

import io.cairn.bench.BenchOptions.Target;
import io.cairn.bench.Protocol.Op;
import io.cairn.bench.Protocol.Req;
import io.cairn.bench.Protocol.SetupReq;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientConnection;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnectOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One client event loop and the connections it owns (like a wrk thread). Each connection carries one
 * request at a time. Everything here runs on this verticle's context; the public methods hop onto it.
 */
final class Worker extends VerticleBase {
    /** Shared by all workers for one measured run. */
    static final class Plan {
        final long tStart;
        final long tEnd;
        /** Open loop: the measured window's schedule (origin tStart); null for closed loop. */
        final Pacer pacer;
        /** Open loop: the warm-up's schedule (origin t0); its backlog is dropped when the measured window starts. */
        final Pacer warmupPacer;
        private final AtomicLong budget;

        /** {@code rate} 0 for closed loop; {@code maxRequests} 0 for no limit. */
        Plan(long t0, long tStart, long tEnd, double rate, long maxRequests) {
            this.tStart = tStart;
            this.tEnd = tEnd;
            this.pacer = rate > 0 ? new Pacer(tStart, rate) : null;
            this.warmupPacer = rate > 0 && tStart > t0 ? new Pacer(t0, rate) : null;
            this.budget = maxRequests > 0 ? new AtomicLong(maxRequests) : null;
        }

        /** The next open-loop slot for a connection free at {@code now}. */
        Pacer.Slot claim(long now) {
            if (now < tStart && warmupPacer != null) {
                Pacer.Slot s = warmupPacer.claim(now);
                if (s.intendedStart() < tStart) return s;
            }
            return pacer.claim(now);
        }

        boolean take() {
            return budget == null || budget.getAndDecrement() > 0;
        }

        boolean exhausted() {
            return budget != null && budget.get() <= 0;
        }
    }

    record Resp(int status, Buffer body) {}

    private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
    private static final long MAX_BACKOFF_MS = 1000;

    private final BenchOptions o;
    private final Protocol protocol;
    private final LongSupplier clock;
    private final SplittableRandom rnd;
    private final List<Conn> conns = new ArrayList<>();
    private HttpClientAgent client;
    private long sweepTimer = -1;

    Worker(int id, BenchOptions o, Protocol protocol, List<Target> connTargets, LongSupplier clock) {
        this.o = o;
        this.protocol = protocol;
        this.clock = clock;
        this.rnd = new SplittableRandom(o.seed * 31 + id * 0x9E3779B97F4A7C15L);
        for (Target t : connTargets) conns.add(new Conn(t));
    }

    @Override
    public Future<?> start() {
        client = vertx.createHttpClient(new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setKeepAlive(true)
                .setPipelining(false)
                .setTcpNoDelay(true)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(o.timeoutNanos))));
        // one periodic sweep enforces --timeout for every connection (cheaper than a timer per request)
        long period = Math.max(10, Math.min(250, TimeUnit.NANOSECONDS.toMillis(o.timeoutNanos) / 4));
        sweepTimer = vertx.setPeriodic(period, id -> sweep());
        List<Future<Void>> all = new ArrayList<>();
        for (Conn c : conns) all.add(c.connect());
        return Future.all(all);
    }

    @Override
    public Future<?> stop() {
        if (sweepTimer >= 0) vertx.cancelTimer(sweepTimer);
        return client == null ? Future.succeededFuture() : client.close();
    }

    private void sweep() {
        long now = clock.getAsLong();
        for (Conn c : conns) c.expire(now);
    }

    private <T> Future<T> onContext(Supplier<Future<T>> body) {
        Promise<T> p = Promise.promise();
        context.runOnContext(v -> {
            try {
                body.get().onComplete(p);
            } catch (RuntimeException e) {
                p.tryFail(e);
            }
        });
        return p.future();
    }

    /** Runs the setup requests one after another on the first connection. */
    Future<Void> setup(List<SetupReq> reqs) {
        return onContext(() -> {
            Future<Void> chain = Future.succeededFuture();
            Conn c = conns.get(0);
            for (SetupReq s : reqs) {
                chain = chain.compose(v -> c.ensureConnected()).compose(v -> c.exchange(s.req())).compose(r -> {
                    if (r.status() >= 200 && r.status() <= 299) return Future.succeededFuture();
                    for (int ok : s.okStatuses()) {
                        if (ok == r.status()) return Future.succeededFuture();
                    }
                    return Future.failedFuture("setup " + s.req().method() + " " + s.req().uri() + " answered "
                            + r.status() + ": " + abbreviate(r.body()));
                });
            }
            return chain;
        });
    }

    /** Writes keys claimed from {@code next} until it reaches {@code n}; fails on the first error. */
    Future<Void> preload(AtomicLong next, long n, AtomicReference<String> failure) {
        return onContext(() -> {
            List<Future<Void>> all = new ArrayList<>();
            for (Conn c : conns) {
                Promise<Void> p = Promise.promise();
                c.preloadNext(next, n, failure, p);
                all.add(p.future());
            }
            return Future.all(all).mapEmpty();
        });
    }

    /**
     * The measured run (with its warm-up); completes with this worker's figures when every connection
     * stopped. {@code loop} is the open-loop dispatcher, null for closed loop.
     */
    Future<RunStats> run(Plan plan, OpenLoop loop) {
        return onContext(() -> {
            RunStats stats = new RunStats();
            Promise<RunStats> done = Promise.promise();
            int[] running = {conns.size()};
            for (Conn c : conns) {
                c.startRun(plan, loop, stats, () -> {
                    if (--running[0] == 0) done.complete(stats);
                });
            }
            return done.future();
        });
    }

    /** The open-loop schedule ended: idle connections stop now, busy ones when their request ends. */
    void openLoopEnded() {
        context.runOnContext(v -> {
            for (Conn c : conns) c.endOpen();
        });
    }

    private Op chooseOp() {
        switch (o.workload) {
            case PUT: return Op.PUT;
            case GET: return Op.GET;
            case QUERY: return Op.QUERY;
            default: return rnd.nextDouble() < o.readFraction ? Op.GET : Op.PUT;
        }
    }

    private long chooseKey(Op op) {
        switch (op) {
            case PUT: return rnd.nextLong(o.keys);
            case GET: return rnd.nextLong(o.readKeySpace());
            default: return rnd.nextLong(o.preload - o.queryLimit + 1);
        }
    }

    private Req build(Op op, long n) {
        switch (op) {
            case PUT: return protocol.put(n);
            case GET: return protocol.get(n);
            default: return protocol.query(n);
        }
    }

    static String classify(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException) return "timeout";
            if (c instanceof ConnectException) return "connect";
            String name = c.getClass().getSimpleName();
            if (name.contains("Timeout")) return "timeout";
            if (name.contains("Closed") || c instanceof ConnectionLost) return "closed";
        }
        return "io";
    }

    static String abbreviate(Buffer b) {
        if (b == null) return "";
        String s = b.toString();
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** The connection went away before a request could be sent on it. */
    static final class ConnectionLost extends RuntimeException {
        ConnectionLost() {
            super("connection closed", null, false, false);
        }
    }

    /** One keep-alive connection with at most one request in flight. */
    private final class Conn implements OpenLoop.Slotted {
        private final Target target;
        private HttpClientConnection http;
        private long backoffMs = 50;
        private Plan plan;
        private OpenLoop loop;
        /** Open loop: waiting in the dispatcher's queue of idle connections. */
        private boolean idle;
        private RunStats stats;
        private Runnable onDone;
        private boolean finished;
        /** When the request in flight was sent (nanoTime), or -1 when idle. */
        private long sentAt = -1;
        private boolean timedOut;

        Conn(Target target) {
            this.target = target;
        }

        Future<Void> connect() {
            return client.connect(new HttpConnectOptions().setHost(target.host()).setPort(target.port())
                            .setConnectTimeout(TimeUnit.NANOSECONDS.toMillis(o.timeoutNanos)))
                    .recover(e -> Future.failedFuture(new ConnectException("cannot connect to " + target + ": " + e.getMessage())))
                    .map(c -> {
                        http = c;
                        c.closeHandler(v -> {
                            if (http == c) http = null;
                        });
                        return null;
                    });
        }

        Future<Void> ensureConnected() {
            return http != null ? Future.succeededFuture() : connect();
        }

        Future<Resp> exchange(Req r) {
            HttpClientConnection c = http;
            if (c == null) return Future.failedFuture(new ConnectionLost());
            RequestOptions ro = new RequestOptions().setMethod(r.method()).setURI(r.uri())
                    .setHost(target.host()).setPort(target.port());
            if (r.body() != null) ro.putHeader(HttpHeaders.CONTENT_TYPE, JSON);
            sentAt = clock.getAsLong();
            timedOut = false;
            return c.request(ro)
                    .compose(req -> r.body() == null ? req.send() : req.send(r.body()))
                    .compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(), b)))
                    .transform(ar -> {
                        sentAt = -1;
                        if (ar.failed() && timedOut) {
                            timedOut = false;
                            return Future.failedFuture(new TimeoutException("no answer from " + target + " within --timeout"));
                        }
                        return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.failedFuture(ar.cause());
                    });
        }

        /** Closes the connection if its request has waited longer than --timeout; the request fails as a timeout. */
        void expire(long now) {
            HttpClientConnection c = http;
            if (sentAt >= 0 && c != null && now - sentAt > o.timeoutNanos) {
                timedOut = true;
                http = null;
                c.close();
            }
        }

        void preloadNext(AtomicLong next, long n, AtomicReference<String> failure, Promise<Void> done) {
            if (failure.get() != null) {
                done.tryFail(failure.get());
                return;
            }
            long i = next.getAndIncrement();
            if (i >= n) {
                done.tryComplete();
                return;
            }
            ensureConnected().compose(v -> exchange(protocol.put(i))).onComplete(ar -> {
                String err = ar.succeeded() ? protocol.verdict(Op.PUT, i, ar.result().status(), ar.result().body())
                        : classify(ar.cause()) + " (" + ar.cause().getMessage() + ")";
                if (err != null) {
                    String body = ar.succeeded() ? ": " + abbreviate(ar.result().body()) : "";
                    failure.compareAndSet(null, "preload of " + protocol.key(i) + " to " + target + " failed: " + err + body);
                    done.tryFail(failure.get());
                    return;
                }
                preloadNext(next, n, failure, done);
            });
        }

        void startRun(Plan plan, OpenLoop loop, RunStats stats, Runnable onDone) {
            this.plan = plan;
            this.loop = loop;
            this.stats = stats;
            this.onDone = onDone;
            this.finished = false;
            this.idle = false;
            resume();
        }

        /** Closed loop: send the next request; open loop: offer this connection to the dispatcher. */
        private void resume() {
            if (loop == null) {
                next();
            } else if (loop.ended()) {
                finish();
            } else if (http == null) {
                reconnect();
            } else {
                idle = true;
                loop.offer(this);
            }
        }

        @Override
        public void dispatch(long intendedStart, boolean measured) {
            context.runOnContext(v -> {
                idle = false;
                fire(intendedStart, measured);
            });
        }

        void endOpen() {
            if (idle) finish();
        }

        private void finish() {
            if (!finished) {
                finished = true;
                onDone.run();
            }
        }

        private void next() {
            if (finished) return;
            long now = clock.getAsLong();
            if (now >= plan.tEnd || plan.exhausted()) {
                finish();
                return;
            }
            if (http == null) {
                reconnect();
                return;
            }
            boolean measured = now >= plan.tStart;
            if (measured && !plan.take()) {
                finish();
                return;
            }
            fire(-1, measured);
        }

        private void fire(long intended, boolean measured) {
            Op op = chooseOp();
            long n = chooseKey(op);
            Req r = build(op, n);
            long t0 = clock.getAsLong();
            if (intended >= 0 && measured) stats.sendLag.record(t0 - intended);
            exchange(r).onComplete(ar -> {
                long t1 = clock.getAsLong();
                String err = ar.succeeded() ? protocol.verdict(op, n, ar.result().status(), ar.result().body()) : classify(ar.cause());
                if (measured) {
                    if (err == null) {
                        stats.ok(op, Pacer.latency(intended, t0, t1), t1);
                    } else {
                        stats.error(err, t1);
                    }
                } else {
                    stats.warmupRequests++;
                    if (err != null) stats.warmupError(err);
                }
                resume();
            });
        }

        private void reconnect() {
            connect().onComplete(ar -> {
                if (ar.succeeded()) {
                    backoffMs = 50;
                    resume();
                    return;
                }
                long now = clock.getAsLong();
                if (now >= plan.tStart) {
                    stats.error("connect", now);
                } else {
                    stats.warmupError("connect");
                }
                long wait = backoffMs;
                backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
                vertx.setTimer(wait, t -> resume());
            });
        }
    }
}
