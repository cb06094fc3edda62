package io.cairn.fault;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting for a condition with a deadline, from a test thread (never an event loop). The
 * condition is polled every few milliseconds; the failure message names what was awaited and
 * what was last seen.
 */
public final class Await {
    private static final long POLL_NANOS = Duration.ofMillis(5).toNanos();

    private Await() {}

    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        until(what, timeout, condition, () -> "");
    }

    /** Waits for {@code condition}; on timeout fails with {@code what} and {@code lastSeen.get()}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> lastSeen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                String seen = lastSeen.get();
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what
                        + (seen.isEmpty() ? "" : "; last seen: " + seen));
            }
            LockSupport.parkNanos(POLL_NANOS);
            if (Thread.interrupted()) throw new IllegalStateException("interrupted waiting for " + what);
        }
    }
}
