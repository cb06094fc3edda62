package io.cairn.node;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes a Java object by reference between verticles of one node (DESIGN.md: records with a local
 * codec, no copying, no JSON). The objects sent are immutable records or thread-safe waiters. Such
 * messages never leave the JVM, so the wire methods refuse.
 */
final class LocalCodec implements MessageCodec<Object, Object> {
    static final String NAME = "cairn-local";
    /** Delivery options that select this codec. */
    static final DeliveryOptions LOCAL = new DeliveryOptions().setCodecName(NAME).setLocalOnly(true);

    static void register(Vertx vertx) {
        try {
            vertx.eventBus().registerCodec(new LocalCodec());
        } catch (IllegalStateException alreadyRegistered) {
            // another node in the same Vert.x instance registered it first: the same codec serves both
        }
    }

    @Override
    public void encodeToWire(Buffer buffer, Object o) {
        throw new UnsupportedOperationException("local-only message " + o.getClass().getSimpleName());
    }

    @Override
    public Object decodeFromWire(int pos, Buffer buffer) {
        throw new UnsupportedOperationException("local-only message");
    }

    @Override
    public Object transform(Object o) {
        return o;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
