package io.cairn.fault;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of one target (clients connect to {@link #port()}; bytes go to the target)
 * that can break connections on command: the network of the fault tests.
 *
 * <p><b>Senders.</b> Every connection is attributed to a sender by a {@link Sender} rule that
 * reads the first bytes the client sends ({@link #CAIRN_HELLO}: the node id of a Cairn peer
 * transport's hello frame; the default, {@link #ANYONE}, attributes everything to one sender at
 * once). A mode can be set for every sender ({@link #setMode(Mode)}) or for one
 * ({@link #setMode(String, Mode)}): one proxy per destination node then cuts {@code a -> b}
 * without cutting {@code c -> b}, whatever address {@code a} learned for {@code b}. Until a
 * connection's sender is known, nothing is dialled or forwarded.
 *
 * <p>Modes ({@link Mode}):
 * <ul>
 *   <li>{@code PASS}: bytes flow both ways (after the configured delay, if any).
 *   <li>{@code DROP_ALL}: a full partition that fails fast: open connections are closed, new ones
 *       are accepted and closed at once (userland cannot refuse a SYN).
 *   <li>{@code STALL}: a full partition that fails slow, like lost packets with TCP retrying: no
 *       byte moves, none is lost, connections stay open; the proxy stops reading once
 *       {@code heldBytesMax} is held, so the kernel buffers fill and the senders see back-pressure.
 *       New connections are accepted but not dialled onward until the link heals; then
 *       everything held is delivered in order.
 *   <li>{@code DROP_FORWARD} / {@code DROP_BACKWARD}: one direction's bytes are discarded (forward
 *       = from the connecting side to the target). A TCP stream with a hole in it is garbage, so
 *       every connection that lost bytes is reset when the mode changes again; a fresh
 *       connection starts clean.
 * </ul>
 * Orthogonally, a delay per direction holds each chunk that long, preserving order (a chunk never
 * overtakes an earlier one when the delay shrinks). {@link #resetConnections()} closes every open
 * connection now.
 *
 * <p><b>Threading.</b> All sockets live on one event loop (the proxy's context). The control
 * methods may be called from any thread, the test's or a timer's: the mode and delays are volatile
 * and apply to the next chunk; what must touch the sockets runs on the proxy's context, and the
 * returned future completes when it has (a test thread can {@code await()} it).
 */
public final class FaultProxy {
    public enum Mode { PASS, DROP_ALL, STALL, DROP_FORWARD, DROP_BACKWARD }

    /**
     * Names the sender of a connection from the bytes it sent first: answers the sender, or null
     * while more bytes are needed. Called again as bytes arrive (with all of them so far, at most
     * {@link #INTRO_BYTES_MAX}; past that the sender is {@link #UNKNOWN}).
     */
    @FunctionalInterface
    public interface Sender {
        String identify(Buffer firstBytes);
    }

    /** The one sender of {@link #ANYONE}, and what {@link #setMode(Mode)} covers by default. */
    public static final String EVERYONE = "*";
    /** The sender of a connection whose first bytes a {@link Sender} rule could not read. */
    public static final String UNKNOWN = "?";
    /** Every connection is from {@link #EVERYONE}, known before any byte arrives. */
    public static final Sender ANYONE = first -> EVERYONE;
    /**
     * The node id in a Cairn peer hello, the first frame of every connection a node dials
     * ({@code [int length][byte version][int magic "CARN"][short n][cluster id][short n][node id]},
     * transport DESIGN.md); anything else is {@link #UNKNOWN}.
     */
    public static final Sender CAIRN_HELLO = FaultProxy::helloSender;

    static final int INTRO_BYTES_MAX = 1024;
    private static final long HELD_BYTES_MAX = 4L << 20;
    private static final int HELLO_MAGIC = 0x4341524E;

    private final Vertx vertx;
    private final String name;
    private final String targetHost;
    private final int targetPort;
    private final Sender sender;
    private final Context context;
    private final Set<Link> links = new HashSet<>(); // on context only
    private NetServer server;
    private NetClient client;
    private volatile int port = -1;
    private volatile Mode mode = Mode.PASS; // for senders without a mode of their own
    private final java.util.concurrent.ConcurrentHashMap<String, Mode> modes = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile long forwardDelayNanos;
    private volatile long backwardDelayNanos;
    private volatile boolean closed;

    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong resets = new AtomicLong();
    private final AtomicLong forwardedBytes = new AtomicLong();
    private final AtomicLong backwardedBytes = new AtomicLong();
    private final AtomicLong droppedBytes = new AtomicLong();
    private final AtomicLong held = new AtomicLong();
    private final AtomicInteger open = new AtomicInteger();

    /** Counters since start. */
    public record Stats(long accepted, long refused, long resets, long forwardedBytes, long backwardedBytes,
                        long droppedBytes, long heldBytes, int openConnections) {}

    private FaultProxy(Vertx vertx, String name, String targetHost, int targetPort, Sender sender) {
        this.vertx = vertx;
        this.name = name;
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.sender = sender;
        this.context = vertx.getOrCreateContext();
    }

    /** Listens on 127.0.0.1, a free port, and forwards to {@code targetHost:targetPort}; one sender ({@link #ANYONE}). */
    public static Future<FaultProxy> start(Vertx vertx, String name, String targetHost, int targetPort) {
        return start(vertx, name, 0, targetHost, targetPort, ANYONE);
    }

    /** As {@link #start(Vertx, String, String, int)}, telling senders apart by {@code sender}. */
    public static Future<FaultProxy> start(Vertx vertx, String name, String targetHost, int targetPort, Sender sender) {
        return start(vertx, name, 0, targetHost, targetPort, sender);
    }

    /** As {@link #start(Vertx, String, String, int, Sender)} on a given listen port (0: any free one). */
    public static Future<FaultProxy> start(Vertx vertx, String name, int listenPort, String targetHost, int targetPort, Sender sender) {
        Objects.requireNonNull(vertx, "vertx");
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(sender, "sender");
        FaultProxy proxy = new FaultProxy(vertx, name, targetHost, targetPort, sender);
        Promise<FaultProxy> promise = Promise.promise();
        proxy.context.runOnContext(v -> proxy.listen(listenPort).map(proxy).onComplete(promise));
        return promise.future();
    }

    private Future<Void> listen(int listenPort) {
        client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(2_000).setTcpNoDelay(true));
        server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(listenPort).setTcpNoDelay(true));
        server.connectHandler(this::accept);
        return server.listen().map(s -> {
            port = s.actualPort();
            return null;
        });
    }

    public String name() {
        return name;
    }

    /** The port clients connect to. */
    public int port() {
        return port;
    }

    public int targetPort() {
        return targetPort;
    }

    /** The mode of senders without one of their own. */
    public Mode mode() {
        return mode;
    }

    /** The mode that applies to connections from {@code from}. */
    public Mode mode(String from) {
        return modes.getOrDefault(from, mode);
    }

    public Stats stats() {
        return new Stats(accepted.get(), refused.get(), resets.get(), forwardedBytes.get(), backwardedBytes.get(),
                droppedBytes.get(), held.get(), open.get());
    }

    public Future<Void> pass() {
        return setMode(Mode.PASS);
    }

    /** A full partition, fail-fast: see {@link Mode#DROP_ALL}. */
    public Future<Void> dropAll() {
        return setMode(Mode.DROP_ALL);
    }

    /** A full partition, fail-slow: see {@link Mode#STALL}. */
    public Future<Void> stall() {
        return setMode(Mode.STALL);
    }

    /** Sets the mode of every sender (forgetting the modes set for single senders). */
    public Future<Void> setMode(Mode next) {
        Objects.requireNonNull(next, "mode");
        mode = next;
        modes.clear();
        return apply(null);
    }

    /** Sets the mode of connections from one sender; the others keep theirs. */
    public Future<Void> setMode(String from, Mode next) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(next, "mode");
        modes.put(from, next);
        return apply(from);
    }

    /** Brings the open connections of {@code from} (null: of everyone) in line with their mode. */
    private Future<Void> apply(String from) {
        return onContext(() -> {
            for (Link link : new ArrayList<>(links)) {
                if (link.from == null || (from != null && !from.equals(link.from))) continue;
                Mode next = link.mode();
                if (next == Mode.DROP_ALL || (link.tainted && next != link.taintedBy)) {
                    link.close(true);
                } else if (next != Mode.STALL) {
                    link.unstall();
                }
            }
        });
    }

    /** Delays every chunk by {@code delay} in both directions (zero: none). */
    public void delay(Duration delay) {
        delay(delay, delay);
    }

    /** Delays chunks from the connecting side by {@code forward}, and answers by {@code backward}. */
    public void delay(Duration forward, Duration backward) {
        if (forward.isNegative() || backward.isNegative()) throw new IllegalArgumentException("negative delay");
        forwardDelayNanos = forward.toNanos();
        backwardDelayNanos = backward.toNanos();
    }

    /** Closes every open connection now; the link's mode is unchanged, so clients may reconnect at once. */
    public Future<Void> resetConnections() {
        return onContext(() -> {
            for (Link link : new ArrayList<>(links)) link.close(true);
        });
    }

    /** Stops listening and closes every connection. Idempotent. */
    public Future<Void> close() {
        if (closed) return Future.succeededFuture();
        closed = true;
        Promise<Void> promise = Promise.promise();
        context.runOnContext(v -> {
            for (Link link : new ArrayList<>(links)) link.close(false);
            Future<Void> s = server != null ? server.close() : Future.succeededFuture();
            Future<Void> c = client != null ? client.close() : Future.succeededFuture();
            Future.join(s, c).<Void>mapEmpty().onComplete(promise);
        });
        return promise.future();
    }

    /** Blocks the calling (non-event-loop) thread until {@link #close()} is done. */
    public void closeAndWait() {
        try {
            close().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("closing proxy " + name, e);
        }
    }

    @Override
    public String toString() {
        return "proxy " + name + " 127.0.0.1:" + port + " -> " + targetHost + ":" + targetPort + " (" + mode
                + (modes.isEmpty() ? "" : ", " + new java.util.TreeMap<>(modes)) + ")";
    }

    /** {@link #CAIRN_HELLO}: the node id of a whole hello frame; null until one is whole. */
    static String helloSender(Buffer b) {
        if (b.length() < 4) return null;
        long frame = 4L + (b.getInt(0) & 0xFFFFFFFFL);
        if (frame > INTRO_BYTES_MAX || frame < 4 + 1 + 8) return UNKNOWN;
        if (b.length() < frame) return null;
        try {
            int at = 5; // length and version
            if (b.getInt(at) != HELLO_MAGIC) return UNKNOWN;
            at += 4 + 2 + b.getUnsignedShort(at + 4); // magic, cluster id
            int idBytes = b.getUnsignedShort(at);
            if (at + 2 + idBytes != frame || idBytes == 0) return UNKNOWN;
            return b.getString(at + 2, at + 2 + idBytes, "UTF-8");
        } catch (IndexOutOfBoundsException e) {
            return UNKNOWN;
        }
    }

    private Future<Void> onContext(Runnable action) {
        Promise<Void> promise = Promise.promise();
        context.runOnContext(v -> {
            try {
                action.run();
                promise.complete();
            } catch (RuntimeException e) {
                promise.fail(e);
            }
        });
        return promise.future();
    }

    private void accept(NetSocket in) {
        if (closed) {
            in.close();
            return;
        }
        Link link = new Link(in);
        links.add(link);
        open.incrementAndGet();
        link.start();
    }

    /** One proxied connection: the socket a client opened to us, and ours to the target. */
    private final class Link {
        final NetSocket in;
        NetSocket out;
        String from; // the sender, once known
        Buffer intro = Buffer.buffer(); // what it sent before that
        boolean dialling;
        boolean closing;
        boolean tainted; // lost bytes: reset at the next mode change
        Mode taintedBy;
        final Pipe forward;
        final Pipe backward;

        Link(NetSocket in) {
            this.in = in;
            this.forward = new Pipe(true);
            this.backward = new Pipe(false);
        }

        Mode mode() {
            return from == null ? Mode.STALL : FaultProxy.this.mode(from);
        }

        void start() {
            in.handler(this::received);
            in.closeHandler(v -> close(false));
            in.exceptionHandler(e -> close(false));
            identify(Buffer.buffer());
        }

        void received(Buffer chunk) {
            if (from != null) forward.receive(chunk);
            else identify(chunk);
        }

        /** Collects the first bytes until the sender is known, then lets the link work as its sender's mode says. */
        void identify(Buffer chunk) {
            if (closing) return;
            intro.appendBuffer(chunk);
            String who = sender.identify(intro);
            if (who == null && intro.length() < INTRO_BYTES_MAX) return;
            from = who == null ? UNKNOWN : who;
            if (mode() == Mode.DROP_ALL) {
                refused.incrementAndGet();
                close(false);
                return;
            }
            accepted.incrementAndGet();
            Buffer first = intro;
            intro = null;
            if (first.length() > 0) forward.receive(first);
            if (mode() != Mode.STALL) dial();
        }

        void dial() {
            if (dialling || out != null || closing || from == null) return;
            dialling = true;
            client.connect(targetPort, targetHost).onComplete(ar -> {
                dialling = false;
                if (ar.failed() || closing) {
                    if (ar.succeeded()) ar.result().close();
                    close(false);
                    return;
                }
                out = ar.result();
                out.handler(backward::receive);
                out.closeHandler(v -> close(false));
                out.exceptionHandler(e -> close(false));
                forward.pump();
            });
        }

        void unstall() {
            if (out == null) dial();
            forward.pump();
            backward.pump();
        }

        void close(boolean reset) {
            if (closing) return;
            closing = true;
            if (reset) resets.incrementAndGet();
            links.remove(this);
            open.decrementAndGet();
            forward.clear();
            backward.clear();
            in.close();
            if (out != null) out.close();
        }

        /** One direction: chunks wait here for their delay, a stall, or a full socket. */
        private final class Pipe {
            final boolean isForward;
            final ArrayDeque<Buffer> chunks = new ArrayDeque<>();
            final ArrayDeque<Long> dueNanos = new ArrayDeque<>();
            long heldBytes;
            long lastDueNanos;
            long timer = -1;
            boolean pausedSource;

            Pipe(boolean isForward) {
                this.isForward = isForward;
            }

            NetSocket source() {
                return isForward ? in : out;
            }

            NetSocket sink() {
                return isForward ? out : in;
            }

            void receive(Buffer chunk) {
                if (closing) return;
                Mode m = mode();
                if ((isForward && m == Mode.DROP_FORWARD) || (!isForward && m == Mode.DROP_BACKWARD)) {
                    droppedBytes.addAndGet(chunk.length());
                    tainted = true;
                    taintedBy = m;
                    return;
                }
                long due = Math.max(System.nanoTime() + (isForward ? forwardDelayNanos : backwardDelayNanos), lastDueNanos);
                lastDueNanos = due;
                chunks.add(chunk);
                dueNanos.add(due);
                heldBytes += chunk.length();
                held.addAndGet(chunk.length());
                pump();
            }

            void pump() {
                if (closing) return;
                NetSocket sink = sink();
                while (!chunks.isEmpty() && mode() != Mode.STALL && sink != null) {
                    long wait = dueNanos.peek() - System.nanoTime();
                    if (wait > 0) {
                        if (timer < 0) {
                            timer = vertx.setTimer(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)), id -> {
                                timer = -1;
                                pump();
                            });
                        }
                        break;
                    }
                    if (sink.writeQueueFull()) {
                        sink.drainHandler(v -> pump());
                        break;
                    }
                    Buffer chunk = chunks.poll();
                    dueNanos.poll();
                    heldBytes -= chunk.length();
                    held.addAndGet(-chunk.length());
                    sink.write(chunk);
                    (isForward ? forwardedBytes : backwardedBytes).addAndGet(chunk.length());
                }
                NetSocket source = source();
                if (source == null) return;
                boolean full = heldBytes >= HELD_BYTES_MAX;
                if (full && !pausedSource) {
                    source.pause();
                    pausedSource = true;
                } else if (!full && pausedSource) {
                    source.resume();
                    pausedSource = false;
                }
            }

            void clear() {
                if (timer >= 0) vertx.cancelTimer(timer);
                chunks.clear();
                dueNanos.clear();
                held.addAndGet(-heldBytes);
                heldBytes = 0;
            }
        }
    }
}
