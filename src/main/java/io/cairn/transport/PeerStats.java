package io.cairn.transport;

/**
 * Counters of one peer, for metrics. Outbound figures concern this node's connection to the peer;
 * {@code receivedMessages} counts frames that arrived from it.
 *
 * @param connected        whether the outbound connection has passed the handshake
 * @param queuedBytes      frame bytes (payload + 5-byte header) waiting to be written
 * @param queuedMessages   messages waiting to be written
 * @param droppedMessages  messages dropped because the queue was full (Raft retransmits)
 * @param sentMessages     messages handed to the socket
 * @param receivedMessages messages received from the peer
 * @param connects         handshakes completed (1 + reconnections)
 * @param failures         dials, handshakes and connections that failed, in total
 */
public record PeerStats(
        String peerId,
        String address,
        boolean connected,
        long queuedBytes,
        int queuedMessages,
        long droppedMessages,
        long sentMessages,
        long receivedMessages,
        long connects,
        long failures) {}
