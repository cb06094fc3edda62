package io.cairn.fault;

import io.cairn.fault.StreamChecker.Change;
import io.cairn.fault.StreamChecker.End;
import io.cairn.fault.StreamChecker.Filter;
import io.cairn.fault.StreamChecker.Progress;
import io.cairn.fault.StreamChecker.Received;
import io.cairn.fault.StreamChecker.Session;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A change-stream subscriber that never gives up: {@code GET /v1/changes} over WebSocket with a
 * filter, recording every frame; when the connection ends (a fault, a node killed) it reconnects,
 * to the next node in turn, and resumes with {@code after} = the last rev it holds completely
 * (a rev is complete once a later change or a progress frame at or past it arrived: a disconnect
 * may cut a transaction). After {@code compacted} it resumes from the oldest rev kept. A connection
 * silent for 12 s (the server sends progress at least every 5 s) is closed and resumed.
 *
 * <p>Each connection becomes one {@link Session} for {@link StreamChecker}. Runs on one event
 * loop; {@link #subscriber()} and {@link #completeRev()} may be called from any thread.
 */
public final class ChangeSubscriber {
    private final Vertx vertx;
    private final String name;
    private final List<String> nodes;
    private final Filter filter;
    private final Random random;
    private final Context context;
    private final WebSocketClient client;
    private final List<Session> sessions = new ArrayList<>(); // guarded by this
    private List<Received> current; // on context
    private Long currentAfter;
    private End currentEnd;
    private WebSocket socket;
    private int node;
    private boolean stopped;
    private long lastChangeRev = Long.MIN_VALUE;
    private volatile long completeRev;
    private long lastFrameNanos;
    private long watchdog = -1;
    /** Cairn sends progress at least every 5 s: a silent connection is presumed dead (a stall, a SIGSTOP). */
    private static final long SILENCE_MAX_NANOS = 12_000_000_000L;
    private volatile int connects;

    /**
     * @param after where the first session starts (null: from now); later ones resume on their own
     * @param seed  picks the first node and the reconnect delays
     */
    public ChangeSubscriber(Vertx vertx, String name, List<String> nodes, Filter filter, Long after, long seed) {
        this.vertx = vertx;
        this.name = name;
        this.nodes = List.copyOf(nodes);
        this.filter = filter;
        this.random = new Random(seed);
        this.context = vertx.getOrCreateContext();
        this.client = vertx.createWebSocketClient(new WebSocketClientOptions().setConnectTimeout(2_000).setMaxFrameSize(1 << 20));
        this.node = random.nextInt(this.nodes.size());
        this.currentAfter = after;
        this.completeRev = after == null ? Long.MIN_VALUE : after;
    }

    public String name() {
        return name;
    }

    /** Connects; completes once the first connection attempt is made (it may fail and retry). */
    public Future<Void> start() {
        Promise<Void> p = Promise.promise();
        context.runOnContext(v -> {
            watchdog = vertx.setPeriodic(1_000, id -> {
                WebSocket ws = socket;
                if (ws != null && System.nanoTime() - lastFrameNanos > SILENCE_MAX_NANOS) ws.close();
            });
            connect();
            p.complete();
        });
        return p.future();
    }

    /** Closes the connection for good; the last session ends {@link End#CLOSED}. */
    public Future<Void> stop() {
        Promise<Void> p = Promise.promise();
        context.runOnContext(v -> {
            stopped = true;
            vertx.cancelTimer(watchdog);
            if (socket != null) {
                WebSocket s = socket;
                endSession(End.CLOSED);
                s.close().onComplete(x -> client.close().onComplete(y -> p.complete()));
            } else {
                client.close().onComplete(y -> p.complete());
            }
        });
        return p.future();
    }

    /** Every rev up to this one has been received whole (the resume point). */
    public long completeRev() {
        return completeRev;
    }

    public int connects() {
        return connects;
    }

    /** The sessions so far (the open one included, as {@link End#OPEN}), for {@link StreamChecker}. */
    public synchronized StreamChecker.Subscriber subscriber() {
        List<Session> all = new ArrayList<>(sessions);
        List<Received> open = current;
        if (open != null) {
            synchronized (open) {
                all.add(new Session(currentAfter, new ArrayList<>(open), End.OPEN));
            }
        }
        return new StreamChecker.Subscriber(name, filter, all);
    }

    private String path() {
        StringBuilder q = new StringBuilder("/v1/changes");
        String sep = "?";
        if (filter.collection() != null) {
            q.append(sep).append("collection=").append(Workload.encode(filter.collection()));
            sep = "&";
        }
        if (filter.key() != null) {
            q.append(sep).append("key=").append(Workload.encode(filter.key()));
            sep = "&";
        }
        if (currentAfter != null) q.append(sep).append("after=").append(currentAfter);
        return q.toString();
    }

    private void connect() {
        if (stopped) return;
        String address = nodes.get(node);
        int colon = address.lastIndexOf(':');
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost(address.substring(0, colon))
                .setPort(Integer.parseInt(address.substring(colon + 1))).setURI(path()).setTimeout(5_000);
        client.connect(options).onComplete(ar -> {
            if (stopped) {
                if (ar.succeeded()) ar.result().close();
                return;
            }
            if (ar.failed()) {
                retry();
                return;
            }
            connects++;
            socket = ar.result();
            synchronized (this) {
                current = new ArrayList<>();
            }
            currentEnd = End.DISCONNECTED;
            lastChangeRev = Long.MIN_VALUE;
            lastFrameNanos = System.nanoTime();
            WebSocket ws = socket;
            ws.textMessageHandler(this::frame);
            ws.closeHandler(v -> {
                if (socket == ws) {
                    endSession(currentEnd);
                    retry();
                }
            });
            ws.exceptionHandler(e -> ws.close());
        });
    }

    private void frame(String text) {
        lastFrameNanos = System.nanoTime();
        JsonObject f;
        try {
            f = new JsonObject(text);
        } catch (RuntimeException e) {
            record(new Change(-1, "?", "unparsable frame: " + text, "?"));
            return;
        }
        String type = f.getString("type", "");
        if (type.equals("change")) {
            long rev = f.getLong("rev");
            if (rev > lastChangeRev && lastChangeRev != Long.MIN_VALUE) advance(lastChangeRev);
            lastChangeRev = Math.max(lastChangeRev, rev);
            record(new Change(rev, f.getString("collection"), f.getString("key"), f.getString("op")));
        } else if (type.equals("progress")) {
            long rev = f.getLong("rev");
            record(new Progress(rev));
            advance(rev);
        } else if (type.equals("error") && "compacted".equals(f.getString("code"))) {
            currentEnd = End.COMPACTED;
            long oldest = f.getLong("oldestRev", 0L);
            completeRev = Math.max(completeRev, oldest - 1); // the client re-reads and resumes from what is kept
        }
    }

    private void record(Received r) {
        List<Received> c = current;
        synchronized (c) {
            c.add(r);
        }
    }

    private void advance(long rev) {
        if (rev > completeRev) completeRev = rev;
    }

    private void endSession(End end) {
        synchronized (this) {
            if (current == null) return;
            List<Received> got;
            synchronized (current) {
                got = new ArrayList<>(current);
            }
            sessions.add(new Session(currentAfter, got, end));
            current = null;
        }
        socket = null;
        currentAfter = completeRev == Long.MIN_VALUE ? null : completeRev;
    }

    private void retry() {
        if (stopped) return;
        node = (node + 1) % nodes.size();
        vertx.setTimer(20 + random.nextInt(80), id -> connect());
    }
}
