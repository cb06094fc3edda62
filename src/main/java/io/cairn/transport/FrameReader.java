package io.cairn.transport;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;

/**
 * Splits a socket's bytes into frame payloads with a {@link RecordParser} in fixed-size mode:
 * 4 bytes of length, then exactly that many bytes. The length is checked against the current
 * payload limit before the parser is asked to gather that many bytes, so a hostile length never
 * makes it allocate more than one frame of the limit. The first bad frame stops the reader and is
 * reported once; nothing is delivered after it. Not thread-safe: used on the socket's event loop.
 */
final class FrameReader implements Handler<Buffer> {
    interface Sink {
        void frame(Buffer payload);

        void malformed(String reason);
    }

    private final RecordParser parser = RecordParser.newFixed(Frames.LENGTH_BYTES);
    private final Sink sink;
    private int payloadBytesMax;
    private boolean expectLength = true;
    private boolean stopped;

    FrameReader(int payloadBytesMax, Sink sink) {
        this.payloadBytesMax = payloadBytesMax;
        this.sink = sink;
        parser.handler(this::record);
    }

    /** Changes the payload limit (raised once the hello has passed). */
    void payloadBytesMax(int payloadBytesMax) {
        this.payloadBytesMax = payloadBytesMax;
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void handle(Buffer bytes) {
        if (!stopped) parser.handle(bytes);
    }

    private void record(Buffer record) {
        if (stopped) return;
        if (expectLength) {
            onLength(record.getInt(0));
        } else {
            onBody(record);
        }
    }

    private void onLength(int length) {
        if (length < 1 || length - 1 > payloadBytesMax) {
            fail("frame length " + length + " outside 1.." + (payloadBytesMax + 1L));
            return;
        }
        expectLength = false;
        parser.fixedSizeMode(length);
    }

    private void onBody(Buffer body) {
        expectLength = true;
        parser.fixedSizeMode(Frames.LENGTH_BYTES);
        byte version = body.getByte(0);
        if (version != Frames.VERSION) {
            fail("frame version " + version + ", expected " + Frames.VERSION);
            return;
        }
        sink.frame(body.slice(1, body.length()));
    }

    private void fail(String reason) {
        stopped = true;
        sink.malformed(reason);
    }
}
