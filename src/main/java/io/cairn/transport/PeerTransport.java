package io.cairn.transport;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries opaque payloads between the nodes of one cluster over TCP, in length-prefixed binary
 * frames (see {@link Frames}). It knows nothing of Raft: the caller encodes and decodes.
 *
 * <p>Each node dials one outbound connection per peer, on the first {@link #send}, and writes to
 * it in order; it reads only from connections other nodes dialled to it. So a pair of nodes uses
 * two connections, one per direction. A dialled connection starts with a hello each way (cluster
 * id and node id, in a frame whose version byte is the protocol version); the listener closes it
 * on another cluster id or version, the dialler on another cluster or an unexpected node id.
 *
 * <p>Delivery is at most once and in order per connection: messages queued or in flight when a
 * connection fails are lost, and Raft retransmits. Limits: {@link TransportOptions}.
 *
 * <p><b>Threading.</b> Everything runs on one event loop: the one of the context that calls
 * {@link #start()} (a verticle's), or a new one if start is called outside Vert.x. {@link #start()}
 * and {@link #stop()} may be called from any thread; every other method only on that event loop
 * (see {@link #context()}), and fails otherwise. The handler is called there too and must not block.
 */
public final class PeerTransport {
    private static final Logger log = LoggerFactory.getLogger(PeerTransport.class);

    private final Vertx vertx;
    private final TransportOptions options;
    private final Map<String, OutboundPeer> outbound = new HashMap<>();
    private final Set<Inbound> inbound = new HashSet<>();
    private final Map<String, Inbound> inboundByPeer = new HashMap<>();
    private BiConsumer<String, byte[]> handler = (peer, payload) -> {};
    private java.util.function.Consumer<String> lostHandler = peer -> {};
    private Context context;
    private Thread owner;
    private NetServer server;
    private NetClient client;
    private volatile int port = -1;
    private boolean stopped;
    private long refused;
    private long accepted;
    private long malformed;
    private long unknownPeerDrops;

    public PeerTransport(Vertx vertx, TransportOptions options) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.options = Objects.requireNonNull(options, "options");
    }

    /** Starts listening; completes with the bound port readable from {@link #port()}. */
    public synchronized Future<Void> start() {
        if (context != null) return Future.failedFuture(new IllegalStateException("transport already started"));
        Context ctx = vertx.getOrCreateContext();
        if (!ctx.isEventLoopContext()) {
            return Future.failedFuture(new IllegalStateException("PeerTransport needs an event-loop context"));
        }
        context = ctx;
        Promise<Void> promise = Promise.promise();
        ctx.runOnContext(v -> listen().onComplete(promise));
        return promise.future();
    }

    /** Closes every connection and the listener. Messages still queued are dropped. */
    public synchronized Future<Void> stop() {
        if (context == null) return Future.succeededFuture();
        Promise<Void> promise = Promise.promise();
        context.runOnContext(v -> shutDown().onComplete(promise));
        return promise.future();
    }

    /** The event-loop context everything runs on; null before {@link #start()}. */
    public synchronized Context context() {
        return context;
    }

    /** The port listened on, once {@link #start()} has completed; -1 before. */
    public int port() {
        return port;
    }

    /**
     * Replaces the peer map (node id to {@code host:port}); this node's own id is ignored. Peers
     * removed, or whose address changed, lose their outbound connection and queue; inbound
     * connections from removed peers are closed.
     */
    public void setPeers(Map<String, String> peers) {
        checkOwner();
        Map<String, PeerAddress> next = new HashMap<>();
        peers.forEach((id, address) -> {
            if (!id.equals(options.nodeId())) next.put(id, PeerAddress.parse(address));
        });
        for (String id : List.copyOf(outbound.keySet())) {
            PeerAddress address = next.get(id);
            if (address == null || !address.equals(outbound.get(id).address())) dropPeer(id, address == null);
        }
        next.forEach((id, address) -> outbound.computeIfAbsent(id,
                k -> new OutboundPeer(vertx, client, options, id, address, () -> lostHandler.accept(id))));
    }

    /**
     * Queues {@code payload} for {@code peerId} (dialling if needed). Dropped and counted if the
     * peer is unknown or its queue is full: then it answers false. The caller must not change the
     * array afterwards.
     *
     * @throws IllegalArgumentException if the payload is larger than frameBytesMax
     */
    public boolean send(String peerId, byte[] payload) {
        checkOwner();
        if (payload.length > options.frameBytesMax()) {
            throw new IllegalArgumentException(payload.length + " bytes exceed frameBytesMax " + options.frameBytesMax());
        }
        OutboundPeer peer = outbound.get(peerId);
        if (peer == null) {
            unknownPeerDrops++;
            if (Long.bitCount(unknownPeerDrops) == 1) {
                log.info("[{}] dropped a message to {}, not a peer of this node ({} such drops so far)", options.nodeId(),
                        peerId, unknownPeerDrops);
            }
            return false;
        }
        return peer.send(payload);
    }

    /** Sets who receives payloads: {@code (fromPeerId, payload)}, on the event loop, in arrival order. */
    public void handler(BiConsumer<String, byte[]> handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Sets who hears that the connection to a peer went down after it was up, or that the peer was
     * removed: what was written to it may or may not have arrived. On the event loop.
     */
    public void connectionLostHandler(java.util.function.Consumer<String> lostHandler) {
        this.lostHandler = Objects.requireNonNull(lostHandler, "lostHandler");
    }

    public TransportStats stats() {
        checkOwner();
        Map<String, PeerStats> peers = new HashMap<>();
        outbound.forEach((id, peer) -> peers.put(id, peer.stats()));
        return new TransportStats(inbound.size(), accepted, refused, malformed, unknownPeerDrops, peers);
    }

    private Future<Void> listen() {
        owner = Thread.currentThread();
        client = vertx.createNetClient(new NetClientOptions()
                .setConnectTimeout(options.connectTimeoutMillis())
                .setTcpNoDelay(true)
                .setTcpKeepAlive(true));
        server = vertx.createNetServer(new NetServerOptions().setTcpNoDelay(true).setTcpKeepAlive(true));
        server.connectHandler(this::accept);
        return server.listen(options.port(), options.host())
                .onSuccess(s -> {
                    port = s.actualPort();
                    log.info("[{}] peer transport of cluster {} listening on {}:{}", options.nodeId(),
                            options.clusterId(), options.host(), port);
                })
                .mapEmpty();
    }

    private Future<Void> shutDown() {
        stopped = true;
        outbound.values().forEach(OutboundPeer::close);
        outbound.clear();
        new ArrayList<>(inbound).forEach(Inbound::close);
        if (server == null) return Future.succeededFuture();
        return Future.all(server.close(), client.close()).mapEmpty();
    }

    private void dropPeer(String id, boolean removed) {
        outbound.remove(id).close();
        Inbound in = inboundByPeer.get(id);
        if (removed && in != null) in.close();
    }

    private void accept(NetSocket socket) {
        checkOwner();
        if (stopped || inbound.size() >= options.inboundConnectionsMax()) {
            refused++;
            log.warn("[{}] refused a connection from {}: {}", options.nodeId(), socket.remoteAddress(),
                    stopped ? "stopped" : "inboundConnectionsMax " + options.inboundConnectionsMax() + " reached");
            socket.close();
            return;
        }
        accepted++;
        inbound.add(new Inbound(socket));
    }

    private void deliver(String peerId, Buffer payload) {
        OutboundPeer peer = outbound.get(peerId);
        if (peer != null) peer.countReceived();
        try {
            handler.accept(peerId, payload.getBytes());
        } catch (RuntimeException e) {
            log.error("[{}] handler failed on a message from {}", options.nodeId(), peerId, e);
        }
    }

    private void checkOwner() {
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException(owner == null ? "PeerTransport not started"
                    : "PeerTransport used off its event loop (" + Thread.currentThread().getName() + ")");
        }
    }

    /** One connection another node dialled to this one: hello first, then payloads to the handler. */
    private final class Inbound implements FrameReader.Sink {
        private final NetSocket socket;
        private final FrameReader reader;
        private String peerId;
        private long timerId;

        Inbound(NetSocket socket) {
            this.socket = socket;
            this.reader = new FrameReader(Frames.HELLO_BYTES_MAX, this);
            socket.handler(reader);
            socket.closeHandler(v -> closed());
            socket.exceptionHandler(e -> log.debug("[{}] inbound socket from {}: {}", options.nodeId(),
                    socket.remoteAddress(), e.toString()));
            timerId = vertx.setTimer(options.handshakeTimeoutMillis(), id -> {
                timerId = -1;
                if (peerId == null) refuse("no hello within " + options.handshakeTimeoutMillis() + " ms");
            });
        }

        @Override
        public void frame(Buffer payload) {
            if (peerId != null) deliver(peerId, payload);
            else hello(payload);
        }

        @Override
        public void malformed(String reason) {
            malformed++;
            log.warn("[{}] closing inbound connection from {} ({}): {}", options.nodeId(), socket.remoteAddress(),
                    peerId == null ? "before hello" : peerId, reason);
            close();
        }

        private void hello(Buffer payload) {
            Frames.Hello hello;
            try {
                hello = Frames.decodeHello(payload);
            } catch (IllegalArgumentException e) {
                refuse("bad hello: " + e.getMessage());
                return;
            }
            if (!hello.clusterId().equals(options.clusterId())) {
                refuse("node " + hello.nodeId() + " is of cluster " + hello.clusterId());
                return;
            }
            if (hello.nodeId().equals(options.nodeId())) {
                refuse("it claims this node's own id " + hello.nodeId());
                return;
            }
            accepted(hello.nodeId());
        }

        private void accepted(String id) {
            cancelTimer();
            peerId = id;
            reader.payloadBytesMax(options.frameBytesMax());
            Inbound previous = inboundByPeer.put(id, this);
            if (previous != null) previous.close();
            socket.write(Frames.hello(options.clusterId(), options.nodeId()));
            log.debug("[{}] accepted connection from {} at {}", options.nodeId(), id, socket.remoteAddress());
        }

        private void refuse(String reason) {
            refused++;
            log.warn("[{}] refused connection from {}: {}", options.nodeId(), socket.remoteAddress(), reason);
            close();
        }

        void close() {
            reader.stop();
            socket.close();
            closed();
        }

        private void closed() {
            cancelTimer();
            inbound.remove(this);
            if (peerId != null) inboundByPeer.remove(peerId, this);
        }

        private void cancelTimer() {
            if (timerId != -1) {
                vertx.cancelTimer(timerId);
                timerId = -1;
            }
        }
    }
}
