package io.cairn.node;

import io.cairn.store.ApplyResult;
import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes proposed on this node and waiting for their entry to apply. The ReplicationVerticle
 * registers a write as soon as the leader accepted it (before anything can commit, so no result is
 * missed); the StateMachineVerticle resolves it when the entry at that index applies. Raft's Log
 * Matching property makes (index, term) name one entry: if the entry that applies at the index has
 * another term, the proposal was overwritten and never applied. Thread-safe.
 */
public final class Proposals {
    /** Bound on waiting proposals; the core's uncommitted-bytes limit normally binds first. */
    private static final int PENDING_MAX = 1_000_000;

    private record Pending(long term, Waiter<ApplyResult> waiter) {}

    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();

    /** Returns false when too many proposals wait (the caller answers with back-pressure). */
    boolean register(long index, long term, Waiter<ApplyResult> waiter) {
        if (pending.size() >= PENDING_MAX) {
            pending.values().removeIf(p -> p.waiter.isDone());
            if (pending.size() >= PENDING_MAX) return false;
        }
        pending.put(index, new Pending(term, waiter));
        return true;
    }

    /** The entry (index, term) applied with {@code result}. */
    void applied(long index, long term, ApplyResult result) {
        Pending p = pending.remove(index);
        if (p == null) return;
        if (p.term == term) {
            p.waiter.complete(result);
        } else {
            p.waiter.fail(new CairnException(ErrorCode.NO_LEADER,
                    "leadership changed before the write committed; it was not applied, retry it"));
        }
    }

    /** A snapshot replaced everything up to {@code index}: whether those writes applied is unknown here. */
    void supersededUpTo(long index) {
        pending.entrySet().removeIf(e -> {
            if (e.getKey() > index) return false;
            e.getValue().waiter.fail(new CairnException(ErrorCode.TIMEOUT,
                    "this node installed a snapshot before the write applied here; it may have committed"));
            return true;
        });
    }

    int size() {
        return pending.size();
    }
}
