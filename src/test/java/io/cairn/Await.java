package io.cairn;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waiting on a condition with a deadline, never sleeping for luck: the project's tests share the
 * fault harness's poller ({@link io.cairn.fault.Await}) and add a default deadline.
 */
public final class Await {
    public static final Duration DEFAULT = Duration.ofSeconds(30);

    private Await() {}

    /** Polls {@code condition} until it holds; fails naming {@code what} after {@code within}. */
    public static void until(String what, Duration within, BooleanSupplier condition) {
        io.cairn.fault.Await.until(what, within, condition);
    }

    public static void until(String what, BooleanSupplier condition) {
        until(what, DEFAULT, condition);
    }
}
