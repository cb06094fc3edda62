package io.cairn.node;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * A reply slot that may be completed from any thread and always completes on the context that
 * created it, at most once. It fails with {@code timeout} after its deadline.
 */
public final class Waiter<T> {
    private final Context context;
    private final Promise<T> promise = Promise.promise();

    private Waiter(Context context) {
        this.context = context;
    }

    /** A waiter on the caller's context that fails with {@code timeoutMessage} after {@code timeoutMillis}. */
    public static <T> Waiter<T> create(Vertx vertx, long timeoutMillis, String timeoutMessage) {
        Waiter<T> w = new Waiter<>(vertx.getOrCreateContext());
        long timer = vertx.setTimer(timeoutMillis, t -> w.promise.tryFail(new CairnException(ErrorCode.TIMEOUT, timeoutMessage)));
        w.promise.future().onComplete(ar -> vertx.cancelTimer(timer));
        return w;
    }

    public void complete(T value) {
        context.runOnContext(v -> promise.tryComplete(value));
    }

    public void fail(Throwable cause) {
        context.runOnContext(v -> promise.tryFail(cause));
    }

    public boolean isDone() {
        return promise.future().isComplete();
    }

    public Future<T> future() {
        return promise.future();
    }
}
