package io.cairn.transport;

import java.util.Map;

/**
 * Counters of a {@link PeerTransport}, for metrics.
 *
 * @param inboundConnections   inbound connections open now (handshaken or not)
 * @param acceptedConnections  inbound connections accepted since start (refused ones not counted)
 * @param refusedConnections   inbound connections closed for another cluster, a bad hello, or the limit
 * @param malformedConnections inbound connections closed for a malformed or oversized frame
 * @param unknownPeerDrops     messages dropped because their peer id was not in the peer map
 * @param peers                per peer, by id
 */
public record TransportStats(
        int inboundConnections,
        long acceptedConnections,
        long refusedConnections,
        long malformedConnections,
        long unknownPeerDrops,
        Map<String, PeerStats> peers) {
    public TransportStats {
        peers = Map.copyOf(peers);
    }
}
