package io.cairn.transport;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * The wire format. A frame is {@code [int length][byte version][payload]} where {@code length}
 * counts the version byte and the payload. The first frame each way is a hello:
 * {@code [int magic][short n][n bytes clusterId][short n][n bytes nodeId]} (UTF-8).
 */
final class Frames {
    static final byte VERSION = 1;
    static final int LENGTH_BYTES = 4;
    static final int HEADER_BYTES = LENGTH_BYTES + 1;
    static final int HELLO_MAGIC = 0x4341524E; // "CARN"
    /** Two ids of up to ID_CHARS_MAX chars of up to 3 UTF-8 bytes each, plus magic and lengths. */
    static final int HELLO_BYTES_MAX = 8 + 2 * 3 * TransportOptions.ID_CHARS_MAX;

    record Hello(String clusterId, String nodeId) {}

    private Frames() {}

    static Buffer frame(byte[] payload) {
        return Buffer.buffer(HEADER_BYTES + payload.length)
                .appendInt(payload.length + 1)
                .appendByte(VERSION)
                .appendBytes(payload);
    }

    static Buffer hello(String clusterId, String nodeId) {
        byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
        byte[] node = nodeId.getBytes(StandardCharsets.UTF_8);
        Buffer payload = Buffer.buffer()
                .appendInt(HELLO_MAGIC)
                .appendShort((short) cluster.length).appendBytes(cluster)
                .appendShort((short) node.length).appendBytes(node);
        return frame(payload.getBytes());
    }

    /** Decodes a hello payload; throws IllegalArgumentException when it is not one. */
    static Hello decodeHello(Buffer payload) {
        try {
            if (payload.getInt(0) != HELLO_MAGIC) throw new IllegalArgumentException("not a hello (magic)");
            int clusterBytes = payload.getUnsignedShort(4);
            String cluster = payload.getString(6, 6 + clusterBytes, "UTF-8");
            int nodeAt = 6 + clusterBytes;
            int nodeBytes = payload.getUnsignedShort(nodeAt);
            String node = payload.getString(nodeAt + 2, nodeAt + 2 + nodeBytes, "UTF-8");
            if (nodeAt + 2 + nodeBytes != payload.length()) throw new IllegalArgumentException("trailing bytes in hello");
            if (cluster.isEmpty() || node.isEmpty()) throw new IllegalArgumentException("empty id in hello");
            return new Hello(cluster, node);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("truncated hello", e);
        }
    }
}
