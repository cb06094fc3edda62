package io.cairn.node;

import io.cairn.config.CairnConfig;
import io.cairn.store.ApplyResult;
import io.cairn.store.CairnException;
import io.cairn.store.DocumentStore;
import io.cairn.store.ErrorCode;
import io.vertx.core.Vertx;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What the verticles of one node share: settings, the published state, the waiting proposals, the
 * applied index, the snapshot files and the store handle for reads. Every field is thread-safe.
 */
final class NodeContext {
    private final Vertx vertx;
    private final CairnConfig config;
    private final NodeState state;
    private final Proposals proposals = new Proposals();
    private final AppliedWatch applied;
    private final SnapshotFiles snapshots;
    private final NodeMetrics metrics = new NodeMetrics();
    private final AtomicReference<DocumentStore> store;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    NodeContext(Vertx vertx, CairnConfig config, NodeState state, DocumentStore store, SnapshotFiles snapshots) {
        this.vertx = vertx;
        this.config = config;
        this.state = state;
        this.store = new AtomicReference<>(store);
        this.applied = new AppliedWatch(vertx, store.appliedIndex());
        this.snapshots = snapshots;
    }

    Vertx vertx() { return vertx; }
    String id() { return config.nodeId(); }
    CairnConfig config() { return config; }
    NodeState state() { return state; }
    Proposals proposals() { return proposals; }
    AppliedWatch applied() { return applied; }
    SnapshotFiles snapshots() { return snapshots; }
    NodeMetrics metrics() { return metrics; }

    /** The store for reads; replaced when a snapshot is installed. */
    DocumentStore store() {
        DocumentStore s = store.get();
        if (s == null) throw new CairnException(ErrorCode.NOT_READY, "the node is restoring a snapshot; retry");
        return s;
    }

    DocumentStore swapStore(DocumentStore next) {
        return store.getAndSet(next);
    }

    /** Set when replication stopped after a storage fault or broken invariant. */
    Throwable failure() {
        return failure.get();
    }

    void replicationFailed(Throwable e) {
        failure.compareAndSet(null, e);
    }

    /** A proposal waiter that completes {@code outer} with {@code index} once the entry applies. */
    Waiter<ApplyResult> membershipWaiter(Waiter<Long> outer, long index) {
        Waiter<ApplyResult> w = Waiter.create(vertx, config.writeTimeoutMillis(),
                "the membership change was not confirmed in time; it may still apply");
        w.future().onComplete(ar -> {
            if (ar.succeeded()) outer.complete(index);
            else outer.fail(ar.cause());
        });
        return w;
    }

    /** Completes {@code waiter} once {@code id} is the known leader (polled every tick), else it times out. */
    void awaitLeader(String id, Waiter<Void> waiter) {
        long period = Math.max(1, config.tickMillis());
        long timer = vertx.setPeriodic(period, t -> {
            if (waiter.isDone()) {
                vertx.cancelTimer(t);
            } else if (id.equals(state.status().leaderId())) {
                vertx.cancelTimer(t);
                waiter.complete(null);
            }
        });
        waiter.future().onComplete(ar -> vertx.cancelTimer(timer));
    }
}
