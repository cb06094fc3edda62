package io.cairn.fault;

/**
 * What Cairn answered, reduced to what {@link KvModel} checks. Revisions are Raft log indexes;
 * {@code readRev} is the {@code X-Cairn-Rev} of a read (0 when not known).
 */
public sealed interface KvOutput {
    /** 200 with a document: its value, its {@code rev} (ETag) and the applied revision the read saw. */
    record Found(String value, long rev, long readRev) implements KvOutput {}

    /** 404: no such document (a read, or a delete of a missing document). */
    record NotFound(long readRev) implements KvOutput {}

    /** 200/201/204: the write committed at {@code rev}. */
    record Written(long rev) implements KvOutput {}

    /** 412: a precondition failed; {@code failedOp} is the txn op index (-1 when not known or not a txn). */
    record PreconditionFailed(int failedOp) implements KvOutput {}

    /** 404 from a transaction: op {@code failedOp} (a delete) names a document that does not exist; nothing applied. */
    record TxnNotFound(int failedOp) implements KvOutput {}

    /** Timeout, 5xx, connection error. Goes with {@link Outcome#UNKNOWN}. */
    record Unknown() implements KvOutput {}

    Unknown UNKNOWN = new Unknown();
}
