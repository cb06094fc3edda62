package io.cairn.transport;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A transport in its own verticle (so its own event loop), recording what it receives. Test
 * threads reach it through {@link #call} and wait with {@link #until}: a condition checked on
 * the event loop every few milliseconds, failing after a deadline.
 */
final class TestNode extends VerticleBase {
    static final long DEADLINE_SECONDS = 10;

    final String id;
    final PeerTransport transport;
    /** Sequence numbers received, by sender. Event loop only. */
    final Map<String, List<Integer>> received = new HashMap<>();
    /** Payloads whose bytes did not match their sequence number. Event loop only. */
    int corrupt;

    private TestNode(Vertx vertx, TransportOptions options) {
        this.id = options.nodeId();
        this.transport = new PeerTransport(vertx, options);
    }

    static TestNode start(Vertx vertx, TransportOptions options) throws Exception {
        TestNode node = new TestNode(vertx, options);
        vertx.deployVerticle(node).await(DEADLINE_SECONDS, TimeUnit.SECONDS);
        return node;
    }

    @Override
    public Future<?> start() {
        transport.handler(this::onMessage);
        return transport.start();
    }

    @Override
    public Future<?> stop() {
        return transport.stop();
    }

    void undeploy() throws Exception {
        vertx.undeploy(deploymentID()).await(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    String address() {
        return "127.0.0.1:" + transport.port();
    }

    /** A payload of {@code bytes} bytes (at least 4) carrying {@code seq}, filled with a seq-derived byte. */
    static byte[] payload(int seq, int bytes) {
        ByteBuffer b = ByteBuffer.allocate(Math.max(4, bytes));
        b.putInt(seq);
        while (b.hasRemaining()) b.put((byte) seq);
        return b.array();
    }

    private void onMessage(String from, byte[] payload) {
        ByteBuffer b = ByteBuffer.wrap(payload);
        int seq = b.getInt();
        while (b.hasRemaining()) if (b.get() != (byte) seq) corrupt++;
        received.computeIfAbsent(from, k -> new ArrayList<>()).add(seq);
    }

    int receivedFrom(String peer) {
        return received.getOrDefault(peer, List.of()).size();
    }

    <T> T call(Callable<T> work) throws Exception {
        Promise<T> promise = Promise.promise();
        context.runOnContext(v -> {
            try {
                promise.complete(work.call());
            } catch (Exception | AssertionError e) {
                promise.fail(e);
            }
        });
        return promise.future().await(DEADLINE_SECONDS, TimeUnit.SECONDS);
    }

    void run(Runnable work) throws Exception {
        call(() -> {
            work.run();
            return null;
        });
    }

    void until(String what, BooleanSupplier condition) throws Exception {
        Promise<Void> promise = Promise.promise();
        context.runOnContext(v -> vertx.setPeriodic(5, id -> {
            try {
                if (promise.future().isComplete()) vertx.cancelTimer(id);
                else if (condition.getAsBoolean()) promise.tryComplete();
            } catch (RuntimeException e) {
                promise.tryFail(e);
            }
        }));
        try {
            promise.future().await(DEADLINE_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            promise.tryFail(e);
            throw new AssertionError("timed out after " + DEADLINE_SECONDS + " s waiting for: " + what);
        }
    }
}
