package io.cairn.node;

import io.cairn.raft.Entry;
import io.cairn.raft.Membership;
import io.cairn.raft.MembershipChange;
import io.cairn.raft.Message;
import io.cairn.raft.SnapshotMeta;
import io.cairn.raft.ToElection;
import io.cairn.raft.ToReplication;
import io.cairn.store.ApplyResult;
import java.nio.file.Path;
import java.util.List;

/**
 * The event-bus addresses inside one node and the records sent to them (all with {@link LocalCodec}).
 * Addresses carry the node id so several nodes can share one Vert.x instance (tests do).
 */
final class Bus {
    private Bus() {}

    static String replication(String nodeId) {
        return "cairn." + nodeId + ".replication";
    }

    static String election(String nodeId) {
        return "cairn." + nodeId + ".election";
    }

    static String transport(String nodeId) {
        return "cairn." + nodeId + ".transport";
    }

    static String stateMachine(String nodeId) {
        return "cairn." + nodeId + ".statemachine";
    }

    // ---- to the ReplicationVerticle

    /** A peer message for Replication, or a record from the Election. */
    record PeerMessage(Message message) {}

    record FromElection(ToReplication record) {}

    /** Propose {@code data}; the waiter completes with the apply result of the entry. */
    record Propose(byte[] data, Waiter<ApplyResult> waiter) {}

    record ChangeMembership(MembershipChange change, Waiter<Long> waiter) {}

    record TransferLeadership(String to, Waiter<Void> waiter) {}

    /** A read barrier: the waiter completes with the index the read must wait for. */
    record ReadBarrier(boolean lease, Waiter<Long> waiter) {}

    /** The state machine made its state durable up to {@code index}: compact the log up to it. */
    record SnapshotTaken(long index) {}

    // ---- to the ElectionVerticle

    record ToElectionMessage(Message message) {}

    record FromReplication(List<ToElection> records) {}

    // ---- to the TransportVerticle

    record Outbound(List<Message> messages) {}

    record Peers(Membership membership) {}

    /** Peer addresses learned outside the log (a joining node's first contact), used while no membership is known. */
    record KnownPeers(java.util.Map<String, String> raftAddresses) {}

    // ---- to the StateMachineVerticle

    /** Committed entries to apply, in order. */
    record Apply(List<Entry> entries) {}

    /** Replace the state with the snapshot file of {@code meta} (received from the leader). */
    record Install(SnapshotMeta meta, Path file) {}

    /** Take a snapshot now; the waiter completes with the index it covers. */
    record TakeSnapshot(Waiter<Long> waiter) {}
}
