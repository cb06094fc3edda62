package io.cairn.node;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import java.util.PriorityQueue;

/**
 * The state machine's applied index, shared by the node's verticles: the state machine raises it,
 * readers wait for it ({@code minRev}, ReadIndex). Thread-safe. Waiters are completed on the
 * context that asked, and fail with {@code timeout} after their deadline. The number of waiters is
 * bounded; past it a wait fails at once with {@code not_ready}.
 */
public final class AppliedWatch {
    private static final int WAITERS_MAX = 100_000;

    private record Waiter(long index, Context context, Promise<Long> promise) {}

    private final Vertx vertx;
    private final PriorityQueue<Waiter> waiters = new PriorityQueue<>((a, b) -> Long.compare(a.index, b.index));
    private volatile long applied;

    public AppliedWatch(Vertx vertx, long applied) {
        this.vertx = vertx;
        this.applied = applied;
    }

    public long applied() {
        return applied;
    }

    /** Called by the state machine after it applied (and committed) everything up to {@code index}. */
    public void advance(long index) {
        synchronized (this) {
            if (index <= applied) return;
            applied = index;
            while (!waiters.isEmpty() && waiters.peek().index <= index) {
                Waiter w = waiters.poll();
                w.context.runOnContext(v -> w.promise.tryComplete(index));
            }
        }
    }

    /**
     * A future that completes with the applied index once it is at least {@code index}, on the
     * caller's context; fails with {@code timeout} after {@code timeoutMillis}.
     */
    public Future<Long> await(long index, long timeoutMillis) {
        if (applied >= index) return Future.succeededFuture(applied);
        Context ctx = vertx.getOrCreateContext();
        Promise<Long> promise = Promise.promise();
        Waiter w = new Waiter(index, ctx, promise);
        synchronized (this) {
            if (applied >= index) return Future.succeededFuture(applied);
            if (waiters.size() >= WAITERS_MAX) {
                return Future.failedFuture(new CairnException(ErrorCode.NOT_READY, "too many reads are waiting; retry"));
            }
            waiters.add(w);
        }
        long timer = vertx.setTimer(timeoutMillis, t -> {
            synchronized (this) {
                waiters.remove(w);
            }
            promise.tryFail(new CairnException(ErrorCode.TIMEOUT,
                    "this node has not applied revision " + index + " within " + timeoutMillis + " ms"));
        });
        return promise.future().onComplete(ar -> vertx.cancelTimer(timer));
    }
}
