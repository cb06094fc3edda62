package io.cairn.transport;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's one outbound connection to one peer: dialled on the first send, handshaken, then
 * written in order; on any failure closed and redialled after a back-off (while messages wait).
 * Messages wait in a bounded queue while there is no connection or the socket's write queue is
 * full; when the queue is full the newest message is dropped and counted. Event loop only.
 *
 * <p>States: IDLE → CONNECTING → HANDSHAKING → CONNECTED; any failure → BACKOFF → (dial if
 * messages wait, else IDLE); close() → CLOSED from anywhere. {@code epoch} changes with every
 * attempt and failure, so callbacks of an abandoned socket or timer find it stale and do nothing.
 */
final class OutboundPeer {
    private static final Logger log = LoggerFactory.getLogger(OutboundPeer.class);

    private enum State { IDLE, CONNECTING, HANDSHAKING, CONNECTED, BACKOFF, CLOSED }

    private final Vertx vertx;
    private final NetClient client;
    private final TransportOptions options;
    private final String peerId;
    private final PeerAddress address;
    private final Runnable onLost;
    private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
    private State state = State.IDLE;
    private NetSocket socket;
    private int epoch;
    private long timerId = -1;
    private int failures;
    private long queuedBytes;
    private long dropped;
    private long sent;
    private long received;
    private long connects;
    private long failuresTotal;

    /** {@code onLost} runs when a connection that was up fails, and when the peer is closed. */
    OutboundPeer(Vertx vertx, NetClient client, TransportOptions options, String peerId, PeerAddress address, Runnable onLost) {
        this.vertx = vertx;
        this.client = client;
        this.options = options;
        this.peerId = peerId;
        this.address = address;
        this.onLost = onLost;
    }

    PeerAddress address() {
        return address;
    }

    /** Writes the payload now if the socket can take it, else queues it; false if it was dropped (queue full, closed). */
    boolean send(byte[] payload) {
        if (state == State.CLOSED) {
            dropped++;
            return false;
        }
        if (state == State.CONNECTED && queue.isEmpty() && !socket.writeQueueFull()) {
            write(Frames.frame(payload));
            return true;
        }
        long frameBytes = payload.length + (long) Frames.HEADER_BYTES;
        if (queuedBytes + frameBytes > options.queueBytesMax() || queue.size() >= options.queueMessagesMax()) {
            dropped++;
            if (Long.bitCount(dropped) == 1) {
                log.warn("[{}] queue to {} full ({} bytes, {} messages): dropped {} so far", options.nodeId(), peerId,
                        queuedBytes, queue.size(), dropped);
            }
            return false;
        }
        queue.add(Frames.frame(payload));
        queuedBytes += frameBytes;
        if (state == State.IDLE) dial();
        else if (state == State.CONNECTED) flush();
        return true;
    }

    void countReceived() {
        received++;
    }

    void close() {
        boolean wasOpen = state != State.CLOSED;
        state = State.CLOSED;
        epoch++;
        cancelTimer();
        closeSocket();
        queue.clear();
        queuedBytes = 0;
        if (wasOpen) onLost.run();
    }

    PeerStats stats() {
        return new PeerStats(peerId, address.toString(), state == State.CONNECTED, queuedBytes, queue.size(), dropped,
                sent, received, connects, failuresTotal);
    }

    private void dial() {
        state = State.CONNECTING;
        int attempt = ++epoch;
        client.connect(address.port(), address.host()).onComplete(ar -> {
            if (attempt != epoch) {
                if (ar.succeeded()) ar.result().close();
                return;
            }
            if (ar.failed()) {
                retryLater("connect failed: " + ar.cause().getMessage());
            } else if (ar.result().localAddress().equals(ar.result().remoteAddress())) {
                // Nothing listened on the peer's port and the kernel picked that very port for this
                // side: a TCP self-connection, which holds the port the peer needs to restart on.
                ar.result().close();
                retryLater("connected to itself: the peer's port is free");
            } else {
                handshake(ar.result(), attempt);
            }
        });
    }

    private void handshake(NetSocket s, int attempt) {
        state = State.HANDSHAKING;
        socket = s;
        s.handler(new FrameReader(Frames.HELLO_BYTES_MAX, new FrameReader.Sink() {
            @Override
            public void frame(Buffer payload) {
                if (attempt == epoch) onAnswer(payload);
            }

            @Override
            public void malformed(String reason) {
                if (attempt == epoch) retryLater("malformed frame: " + reason);
            }
        }));
        s.closeHandler(v -> {
            if (attempt == epoch) retryLater("connection closed by peer");
        });
        s.exceptionHandler(e -> log.debug("[{}] socket to {}: {}", options.nodeId(), peerId, e.toString()));
        s.write(Frames.hello(options.clusterId(), options.nodeId()));
        timerId = vertx.setTimer(options.handshakeTimeoutMillis(), id -> {
            timerId = -1;
            if (attempt == epoch && state == State.HANDSHAKING) retryLater("no hello answer in time");
        });
    }

    private void onAnswer(Buffer payload) {
        if (state != State.HANDSHAKING) {
            retryLater("unexpected frame on an outbound connection");
            return;
        }
        Frames.Hello hello;
        try {
            hello = Frames.decodeHello(payload);
        } catch (IllegalArgumentException e) {
            retryLater("bad hello answer: " + e.getMessage());
            return;
        }
        if (!hello.clusterId().equals(options.clusterId()) || !hello.nodeId().equals(peerId)) {
            retryLater("it answered as node " + hello.nodeId() + " of cluster " + hello.clusterId());
            return;
        }
        connected();
    }

    private void connected() {
        cancelTimer();
        state = State.CONNECTED;
        failures = 0;
        connects++;
        int attempt = epoch;
        socket.drainHandler(v -> {
            if (attempt == epoch) flush();
        });
        log.info("[{}] connected to {} at {}", options.nodeId(), peerId, address);
        flush();
    }

    private void flush() {
        while (state == State.CONNECTED && !queue.isEmpty() && !socket.writeQueueFull()) {
            Buffer frame = queue.poll();
            queuedBytes -= frame.length();
            write(frame);
        }
    }

    private void write(Buffer frame) {
        socket.write(frame);
        sent++;
    }

    private void retryLater(String reason) {
        boolean wasConnected = state == State.CONNECTED;
        epoch++;
        cancelTimer();
        closeSocket();
        failures++;
        failuresTotal++;
        long delayMillis = backoffMillis(failures);
        logFailure(reason, wasConnected, delayMillis);
        state = State.BACKOFF;
        if (wasConnected) onLost.run();
        timerId = vertx.setTimer(delayMillis, id -> {
            timerId = -1;
            if (state != State.BACKOFF) return;
            if (queue.isEmpty()) state = State.IDLE;
            else dial();
        });
    }

    /** Exponential from backoffMinMillis, capped at backoffMaxMillis, with 25% jitter downwards. */
    private long backoffMillis(int failureCount) {
        int doublings = Math.min(failureCount - 1, 30);
        long base = Math.min(options.backoffMaxMillis(), options.backoffMinMillis() << doublings);
        if (base <= 0) base = options.backoffMaxMillis();
        long jitter = ThreadLocalRandom.current().nextLong(base / 4 + 1);
        return Math.max(1, base - jitter);
    }

    private void logFailure(String reason, boolean wasConnected, long delayMillis) {
        if (wasConnected) {
            log.warn("[{}] lost connection to {} at {} ({}); redialling in {} ms", options.nodeId(), peerId, address,
                    reason, delayMillis);
        } else if (Integer.bitCount(failures) == 1) {
            log.info("[{}] cannot reach {} at {} ({}), failure {}; redialling in {} ms", options.nodeId(), peerId,
                    address, reason, failures, delayMillis);
        } else {
            log.debug("[{}] cannot reach {} at {} ({}), failure {}", options.nodeId(), peerId, address, reason, failures);
        }
    }

    private void cancelTimer() {
        if (timerId != -1) {
            vertx.cancelTimer(timerId);
            timerId = -1;
        }
    }

    private void closeSocket() {
        if (socket != null) {
            socket.close();
            socket = null;
        }
    }
}
