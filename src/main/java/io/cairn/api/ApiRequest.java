package io.cairn.api;

/**
 * One client request, whichever front end it came through (HTTP, WebSocket, the {@code cairn.api}
 * event-bus address). JSON bodies travel as the client's own text so that numbers and documents
 * keep their exact form; the store parses and validates them once.
 */
public sealed interface ApiRequest {
    /** Whether this request changes the store (and so goes through the Raft log). */
    default boolean isWrite() {
        return false;
    }

    record GetDoc(String collection, String key, ReadOptions read) implements ApiRequest {}

    record ListDocs(String collection, String prefix, String after, int limit, ReadOptions read) implements ApiRequest {}

    /** {@code ifRev}: null none, 0 must not exist, N must exist at rev N. */
    record PutDoc(String collection, String key, String docJson, Long ifRev) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record InsertDoc(String collection, String docJson) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record PatchDoc(String collection, String key, String patchJson, Long ifRev) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record DeleteDoc(String collection, String key, Long ifRev) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record Query(String collection, String queryJson, ReadOptions read) implements ApiRequest {}

    record Txn(String bodyJson) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    /** {@code bodyJson} may be null (no indexes asked for). */
    record PutCollection(String collection, String bodyJson) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record GetCollection(String collection, ReadOptions read) implements ApiRequest {}

    record ListCollections(ReadOptions read) implements ApiRequest {}

    record DropCollection(String collection) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record PutIndex(String collection, String index, String bodyJson) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record ListIndexes(String collection, ReadOptions read) implements ApiRequest {}

    record DropIndex(String collection, String index) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record ClusterStatus() implements ApiRequest {}

    /** Add a member as a learner; the leader promotes it to voter once it has caught up. */
    record AddMember(String id, String raftAddress, String httpAddress) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    record RemoveMember(String id) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    /** Hand leadership to {@code to}; answered once it leads. */
    record TransferLeader(String to) implements ApiRequest {
        @Override public boolean isWrite() { return true; }
    }

    /** Snapshot this node's state and compact its log (local to the node asked). */
    record Snapshot() implements ApiRequest {}
}
