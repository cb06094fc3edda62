package io.cairn;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting on a condition with a deadline, never sleeping for luck. */
public final class Await {
    public static final Duration DEFAULT = Duration.ofSeconds(30);
    private static final long POLL_MILLIS = 10;

    private Await() {}

    /** Polls {@code condition} until it holds; fails naming {@code what} after {@code within}. */
    public static void until(String what, Duration within, BooleanSupplier condition) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + within + " waiting for " + what);
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }

    public static void until(String what, BooleanSupplier condition) {
        until(what, DEFAULT, condition);
    }
}
