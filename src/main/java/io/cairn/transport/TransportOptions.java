package io.cairn.transport;

import java.util.Objects;

/**
 * Settings of a {@link PeerTransport}. Build with {@link #of} and adjust with the {@code with}
 * methods; every limit is checked here.
 *
 * @param clusterId              the cluster this node belongs to; connections of other clusters are refused
 * @param nodeId                 this node's id, sent in the hello
 * @param host                   the address to listen on
 * @param port                   the port to listen on; 0 picks a free one ({@link PeerTransport#port()})
 * @param frameBytesMax          the largest payload a frame may carry (the 5-byte header comes on top)
 * @param queueBytesMax          the most frame bytes waiting per peer; newer messages are dropped
 * @param queueMessagesMax       the most messages waiting per peer; newer messages are dropped
 * @param connectTimeoutMillis   how long a dial may take
 * @param handshakeTimeoutMillis how long a hello (or its answer) may take before the connection closes
 * @param backoffMinMillis       the first reconnection delay, doubled per failure
 * @param backoffMaxMillis       the cap of the reconnection delay
 * @param inboundConnectionsMax  the most inbound connections at once; more are closed at accept
 */
public record TransportOptions(
        String clusterId,
        String nodeId,
        String host,
        int port,
        int frameBytesMax,
        long queueBytesMax,
        int queueMessagesMax,
        int connectTimeoutMillis,
        long handshakeTimeoutMillis,
        long backoffMinMillis,
        long backoffMaxMillis,
        int inboundConnectionsMax) {

    /** Ids travel in the hello; this bounds them. */
    public static final int ID_CHARS_MAX = 128;

    public TransportOptions {
        checkId("clusterId", clusterId);
        checkId("nodeId", nodeId);
        Objects.requireNonNull(host, "host");
        check(port >= 0 && port <= 65_535, "port", port);
        check(frameBytesMax >= 1 && frameBytesMax <= Integer.MAX_VALUE - 16, "frameBytesMax", frameBytesMax);
        check(queueBytesMax >= frameBytesMax + 5L, "queueBytesMax (>= frameBytesMax + 5)", queueBytesMax);
        check(queueMessagesMax >= 1, "queueMessagesMax", queueMessagesMax);
        check(connectTimeoutMillis >= 1, "connectTimeoutMillis", connectTimeoutMillis);
        check(handshakeTimeoutMillis >= 1, "handshakeTimeoutMillis", handshakeTimeoutMillis);
        check(backoffMinMillis >= 1, "backoffMinMillis", backoffMinMillis);
        check(backoffMaxMillis >= backoffMinMillis, "backoffMaxMillis (>= backoffMinMillis)", backoffMaxMillis);
        check(inboundConnectionsMax >= 1, "inboundConnectionsMax", inboundConnectionsMax);
    }

    /** Defaults: 16 MiB frames, 32 MiB / 100k messages queued per peer, back-off 50 ms .. 2 s. */
    public static TransportOptions of(String clusterId, String nodeId, String host, int port) {
        return new TransportOptions(clusterId, nodeId, host, port, 16 << 20, 32L << 20, 100_000,
                1_000, 2_000, 50, 2_000, 256);
    }

    public TransportOptions withFrameBytesMax(int frameBytesMax) {
        return new TransportOptions(clusterId, nodeId, host, port, frameBytesMax, queueBytesMax, queueMessagesMax,
                connectTimeoutMillis, handshakeTimeoutMillis, backoffMinMillis, backoffMaxMillis, inboundConnectionsMax);
    }

    public TransportOptions withQueue(long queueBytesMax, int queueMessagesMax) {
        return new TransportOptions(clusterId, nodeId, host, port, frameBytesMax, queueBytesMax, queueMessagesMax,
                connectTimeoutMillis, handshakeTimeoutMillis, backoffMinMillis, backoffMaxMillis, inboundConnectionsMax);
    }

    public TransportOptions withBackoffMillis(long backoffMinMillis, long backoffMaxMillis) {
        return new TransportOptions(clusterId, nodeId, host, port, frameBytesMax, queueBytesMax, queueMessagesMax,
                connectTimeoutMillis, handshakeTimeoutMillis, backoffMinMillis, backoffMaxMillis, inboundConnectionsMax);
    }

    public TransportOptions withTimeoutsMillis(int connectTimeoutMillis, long handshakeTimeoutMillis) {
        return new TransportOptions(clusterId, nodeId, host, port, frameBytesMax, queueBytesMax, queueMessagesMax,
                connectTimeoutMillis, handshakeTimeoutMillis, backoffMinMillis, backoffMaxMillis, inboundConnectionsMax);
    }

    public TransportOptions withPort(int port) {
        return new TransportOptions(clusterId, nodeId, host, port, frameBytesMax, queueBytesMax, queueMessagesMax,
                connectTimeoutMillis, handshakeTimeoutMillis, backoffMinMillis, backoffMaxMillis, inboundConnectionsMax);
    }

    private static void checkId(String name, String id) {
        Objects.requireNonNull(id, name);
        if (id.isEmpty() || id.length() > ID_CHARS_MAX) {
            throw new IllegalArgumentException(name + " must have 1.." + ID_CHARS_MAX + " chars: '" + id + "'");
        }
    }

    private static void check(boolean ok, String name, long value) {
        if (!ok) throw new IllegalArgumentException(name + " out of range: " + value);
    }
}
