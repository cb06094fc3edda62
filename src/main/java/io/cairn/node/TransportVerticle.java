package io.cairn.node;

import io.cairn.raft.Member;
import io.cairn.raft.Message;
import io.cairn.raft.MessageCodec;
import io.cairn.raft.Route;
import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.cairn.transport.PeerTransport;
import io.cairn.transport.TransportOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries this node's peer traffic over {@link PeerTransport}. A frame's payload starts with a type
 * byte: {@link #RAFT} (the rest is a {@link MessageCodec} message, handed to the Election or the
 * Replication by {@link Route}), {@link #FORWARD_REQUEST} and {@link #FORWARD_RESPONSE} (a follower
 * forwarding a client write to the leader: {@code [long id][UTF-8 JSON]}).
 */
final class TransportVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(TransportVerticle.class);
    static final byte RAFT = 0;
    static final byte FORWARD_REQUEST = 1;
    static final byte FORWARD_RESPONSE = 2;
    /** Forwarded requests waiting for the leader's answer. */
    private static final int FORWARDS_MAX = 10_000;

    /** Send {@code json} to {@code to} as a forwarded request; the waiter gets the response JSON. */
    record Forward(String to, byte[] json, Waiter<byte[]> waiter) {}

    private record PendingForward(String to, Waiter<byte[]> waiter) {}

    private final NodeContext node;
    private final Function<byte[], Future<byte[]>> forwardHandler;
    private final Map<Long, PendingForward> forwards = new HashMap<>();
    private long nextForwardId = 1;
    private PeerTransport transport;
    private io.cairn.raft.Membership membership = io.cairn.raft.Membership.EMPTY;
    private Map<String, String> knownPeers = Map.of();
    /** The peers the transport can reach now (set by {@link #setPeers}). */
    private java.util.Set<String> reachable = java.util.Set.of();
    private MessageConsumer<Object> consumer;

    /** {@code forwardHandler} serves requests other nodes forward here (JSON in, JSON out). */
    TransportVerticle(NodeContext node, Function<byte[], Future<byte[]>> forwardHandler) {
        this.node = node;
        this.forwardHandler = forwardHandler;
    }

    int port() {
        return transport.port();
    }

    @Override
    public Future<?> start() {
        var c = node.config();
        transport = new PeerTransport(vertx, TransportOptions.of(c.clusterId(), c.nodeId(), c.raftHost(), c.raftPort()));
        transport.handler(this::receive);
        transport.connectionLostHandler(this::connectionLost);
        consumer = vertx.eventBus().localConsumer(Bus.transport(node.id()), msg -> handle(msg.body()));
        return transport.start()
                .compose(v -> consumer.completion())
                .onSuccess(v -> {
                    membership = node.state().membership();
                    setPeers(membership);
                })
                .recover(e -> Future.failedFuture(new IllegalStateException(
                        "cannot listen for peers on " + c.raftHost() + ":" + c.raftPort() + ": " + e.getMessage(), e)));
    }

    @Override
    public Future<?> stop() {
        forwards.values().forEach(f -> f.waiter().fail(new CairnException(ErrorCode.NOT_READY, "the node is stopping")));
        forwards.clear();
        Future<?> unregister = consumer == null ? Future.succeededFuture() : consumer.unregister();
        return unregister.compose(v -> transport == null ? Future.succeededFuture() : transport.stop());
    }

    private void handle(Object body) {
        if (body instanceof Bus.Outbound o) {
            for (Message m : o.messages()) send(m.to(), RAFT, MessageCodec.encode(m));
        } else if (body instanceof Bus.Peers p) {
            membership = p.membership();
            setPeers(membership);
        } else if (body instanceof Bus.KnownPeers k) {
            knownPeers = Map.copyOf(k.raftAddresses());
            setPeers(membership);
        } else if (body instanceof Forward f) {
            forward(f);
        }
    }

    private void setPeers(io.cairn.raft.Membership membership) {
        Map<String, String> peers = new LinkedHashMap<>();
        if (membership.members().isEmpty()) peers.putAll(knownPeers);
        for (Member m : membership.members()) peers.put(m.id(), m.raftAddress());
        peers.remove(node.id());
        transport.setPeers(peers);
        reachable = java.util.Set.copyOf(peers.keySet());
    }

    /** False when the transport dropped the message (unknown peer, queue full, too large). */
    private boolean send(String to, byte type, byte[] payload) {
        byte[] framed = new byte[payload.length + 1];
        framed[0] = type;
        System.arraycopy(payload, 0, framed, 1, payload.length);
        try {
            return transport.send(to, framed);
        } catch (IllegalArgumentException e) {
            log.warn("{} dropped a message to {}: {}", node.id(), to, e.getMessage());
            return false;
        }
    }

    private void forward(Forward f) {
        if (forwards.size() >= FORWARDS_MAX) {
            f.waiter().fail(new CairnException(ErrorCode.NOT_READY, "too many writes are being forwarded; retry"));
            return;
        }
        if (!reachable.contains(f.to())) {
            // A node that is joining knows the leader's id (from its messages) before its address
            // (from the join answer or the log): the transport would drop the request unanswered.
            f.waiter().fail(new CairnException(ErrorCode.NO_LEADER,
                    "this node cannot reach the leader " + f.to() + " yet; retry"));
            return;
        }
        long id = nextForwardId++;
        forwards.put(id, new PendingForward(f.to(), f.waiter()));
        f.waiter().future().onComplete(ar -> forwards.remove(id));
        if (!send(f.to(), FORWARD_REQUEST, Buffer.buffer().appendLong(id).appendBytes(f.json()).getBytes())) {
            // never left this node: nothing was proposed
            f.waiter().fail(new CairnException(ErrorCode.NOT_READY, "the link to the leader " + f.to() + " is backed up; retry"));
        }
    }

    /**
     * The connection to {@code peer} went down: writes forwarded to it may have been applied or
     * not, and their answers would come from a process that is likely gone (a leader that
     * stopped). They fail now as timeouts (504, may still commit) instead of holding the client
     * for the whole write timeout.
     */
    private void connectionLost(String peer) {
        List<PendingForward> lost = new ArrayList<>();
        for (PendingForward f : forwards.values()) if (f.to().equals(peer)) lost.add(f);
        for (PendingForward f : lost) {
            f.waiter().fail(new CairnException(ErrorCode.TIMEOUT,
                    "the connection to the leader " + peer + " closed before it answered; the write may or may not have been applied"));
        }
    }

    private void receive(String from, byte[] payload) {
        if (payload.length == 0) return;
        try {
            switch (payload[0]) {
                case RAFT -> route(from, MessageCodec.decode(java.util.Arrays.copyOfRange(payload, 1, payload.length)));
                case FORWARD_REQUEST -> serveForward(from, payload);
                case FORWARD_RESPONSE -> forwardAnswered(payload);
                default -> log.warn("{} dropped a frame of unknown type {} from {}", node.id(), payload[0], from);
            }
        } catch (IllegalArgumentException e) {
            log.warn("{} dropped a malformed frame from {}: {}", node.id(), from, e.getMessage());
        }
    }

    private void route(String from, Message m) {
        if (!m.from().equals(from) || !m.to().equals(node.id())) {
            log.warn("{} dropped a message claiming {} -> {} on the link from {}", node.id(), m.from(), m.to(), from);
            return;
        }
        Object wrapped = Route.of(m) == Route.ELECTION ? new Bus.ToElectionMessage(m) : new Bus.PeerMessage(m);
        String address = Route.of(m) == Route.ELECTION ? Bus.election(node.id()) : Bus.replication(node.id());
        vertx.eventBus().send(address, wrapped, LocalCodec.LOCAL);
    }

    private void serveForward(String from, byte[] payload) {
        Buffer b = Buffer.buffer(payload);
        if (b.length() < 9) throw new IllegalArgumentException("short forward request");
        long id = b.getLong(1);
        byte[] json = b.getBytes(9, b.length());
        forwardHandler.apply(json).onComplete(ar -> {
            byte[] answer = ar.succeeded() ? ar.result() : ForwardCodec.error(ar.cause());
            send(from, FORWARD_RESPONSE, Buffer.buffer().appendLong(id).appendBytes(answer).getBytes());
        });
    }

    private void forwardAnswered(byte[] payload) {
        Buffer b = Buffer.buffer(payload);
        if (b.length() < 9) throw new IllegalArgumentException("short forward response");
        PendingForward f = forwards.remove(b.getLong(1));
        if (f != null) f.waiter().complete(b.getBytes(9, b.length()));
    }
}
