package io.cairn.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The open-loop schedule: request {@code i} is meant to start at {@code origin + i / rate}, whatever
 * happened to the requests before it. A connection that becomes free claims the next slot and
 * waits until its intended start (or sends at once if the slot is already due); its latency is
 * measured from the intended start, so time a request spends waiting because the target was slow
 * is counted (no coordinated omission). Thread-safe: connections on several event loops share one
 * schedule. Times are {@code System.nanoTime()}-style nanoseconds from any clock.
 */
public final class Pacer {
    /** A claimed slot: its sequence number, intended start, and how long to wait before sending. */
    public record Slot(long seq, long intendedStart, long delayNanos) {}

    private final long origin;
    private final double intervalNanos;
    private final AtomicLong next = new AtomicLong();

    public Pacer(long originNanos, double ratePerSecond) {
        if (!(ratePerSecond > 0)) throw new IllegalArgumentException("rate must be positive");
        this.origin = originNanos;
        this.intervalNanos = 1e9 / ratePerSecond;
    }

    /** The intended start of slot {@code seq}. */
    public long intendedStart(long seq) {
        return origin + (long) Math.floor(seq * intervalNanos);
    }

    /** Claims the next slot for a connection that is free at {@code nowNanos}. */
    public Slot claim(long nowNanos) {
        long seq = next.getAndIncrement();
        long intended = intendedStart(seq);
        return new Slot(seq, intended, Math.max(0, intended - nowNanos));
    }

    /** How many slots have been claimed so far. */
    public long claimed() {
        return next.get();
    }

    /** The number of slots whose intended start is before {@code t} (the first slot starts at the origin). */
    public long slotsBefore(long t) {
        if (t <= origin) return 0;
        long n = (long) Math.ceil((t - origin) / intervalNanos);
        // float guard: make sure slot n-1 is before t and slot n is not
        while (n > 0 && intendedStart(n - 1) >= t) n--;
        while (intendedStart(n) < t) n++;
        return n;
    }

    /**
     * Slots intended in {@code [from, to)} that no connection claimed: requests the schedule wanted but
     * the target (or the client) was too slow to even send. Reported, since their latency is unknown.
     */
    public long unsent(long from, long to) {
        long lo = slotsBefore(from);
        long hi = slotsBefore(to);
        long claimedInWindow = Math.max(0, Math.min(claimed(), hi) - lo);
        return (hi - lo) - claimedInWindow;
    }

    /**
     * The latency to record for a request: from its intended start in open loop (or from its actual
     * send if a timer fired early), from its actual send in closed loop ({@code intendedStart < 0}).
     */
    public static long latency(long intendedStart, long actualStart, long end) {
        long from = intendedStart < 0 ? actualStart : Math.min(intendedStart, actualStart);
        return Math.max(0, end - from);
    }
}
