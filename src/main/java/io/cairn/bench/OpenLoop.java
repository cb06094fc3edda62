package io.cairn.bench;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The open-loop dispatcher: one thread walks the schedule, waits (parked, not spinning) for each
 * request's intended start, and hands it to an idle connection on that connection's event loop.
 * When every connection is busy the schedule falls behind; the next connection to come free gets
 * the oldest due request at once, and its latency still counts from the intended start.
 *
 * <p>Why a thread and not event-loop timers: Netty's NIO loop rounds a timer's wait to the nearest
 * millisecond and polls without blocking for the last half millisecond, so sub-millisecond timers
 * keep an event loop spinning (measured: ~300 us of CPU per request at 1000 req/s), CPU that the
 * target on a small machine needs.
 */
final class OpenLoop implements Runnable {
    /** A connection that can take one request. */
    interface Slotted {
        /** Sends one request meant to start at {@code intendedStart}; called on the dispatcher thread. */
        void dispatch(long intendedStart, boolean measured);
    }

    /** A request due within this is sent at once (parking is not finer than ~50-100 us anyway). */
    static final long EARLY_NANOS = 20_000;

    private final Worker.Plan plan;
    private final LongSupplier clock;
    private final Runnable onEnd;
    private final ConcurrentLinkedQueue<Slotted> idle = new ConcurrentLinkedQueue<>();
    private volatile Thread runner;
    private volatile boolean waiting;
    private volatile boolean ended;

    /** {@code onEnd} runs on the dispatcher thread once no request will be dispatched any more. */
    OpenLoop(Worker.Plan plan, LongSupplier clock, Runnable onEnd) {
        if (plan.pacer == null) throw new IllegalArgumentException("closed-loop plan");
        this.plan = plan;
        this.clock = clock;
        this.onEnd = onEnd;
    }

    void start() {
        Thread t = new Thread(this, "cairn-bench-dispatcher");
        t.setDaemon(true);
        runner = t;
        t.start();
    }

    /** A connection is free for the next request (any thread). */
    void offer(Slotted s) {
        idle.offer(s);
        if (waiting) {
            Thread t = runner;
            if (t != null) LockSupport.unpark(t);
        }
    }

    /** True once the schedule has ended: a connection that comes free should stop. */
    boolean ended() {
        return ended;
    }

    @Override
    public void run() {
        runner = Thread.currentThread();
        try {
            while (true) {
                long now = clock.getAsLong();
                if (now >= plan.tEnd || plan.exhausted()) break;
                Slotted c = idle.poll();
                if (c == null) {
                    waiting = true;
                    c = idle.poll();   // re-check after announcing the wait: an offer in between unparks us
                    if (c == null) {
                        LockSupport.parkNanos(this, plan.tEnd - now);
                        waiting = false;
                        continue;
                    }
                    waiting = false;
                }
                Pacer.Slot s = plan.claim(clock.getAsLong());
                long intended = s.intendedStart();
                if (intended >= plan.tEnd) {
                    idle.offer(c);
                    break;
                }
                boolean measured = intended >= plan.tStart;
                if (measured && !plan.take()) {
                    idle.offer(c);
                    break;
                }
                for (long wait = intended - clock.getAsLong(); wait > EARLY_NANOS; wait = intended - clock.getAsLong()) {
                    LockSupport.parkNanos(this, wait);
                }
                c.dispatch(intended, measured);
            }
        } finally {
            ended = true;
            onEnd.run();
        }
    }
}
