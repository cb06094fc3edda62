package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The dispatcher thread under a fake clock that moves 50 us each time it is read. */
class OpenLoopTest {
    private static final long MS = 1_000_000;

    private record Sent(long intended, boolean measured, long at) {}

    private static final class Run {
        final AtomicLong now = new AtomicLong();
        final List<Sent> sent = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        final Worker.Plan plan;
        final OpenLoop loop;

        Run(long t0, long tStart, long tEnd, double rate, long max) {
            now.set(t0);
            plan = new Worker.Plan(t0, tStart, tEnd, rate, max);
            loop = new OpenLoop(plan, () -> now.addAndGet(50_000), ended::countDown);
        }

        /** A connection that answers at once and offers itself again (or holds on to every request). */
        OpenLoop.Slotted conn(boolean answers) {
            return new OpenLoop.Slotted() {
                @Override
                public void dispatch(long intendedStart, boolean measured) {
                    sent.add(new Sent(intendedStart, measured, now.get()));
                    if (answers) loop.offer(this);
                }
            };
        }

        void runToEnd() throws InterruptedException {
            loop.start();
            assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(loop.ended()).isTrue();
        }
    }

    @Test
    void dispatchesEachSlotAtItsIntendedStart() throws InterruptedException {
        Run r = new Run(0, 2 * MS, 12 * MS, 1000, 0);
        r.loop.offer(r.conn(true));
        r.runToEnd();
        // warm-up slots 0 and 1 ms, then the measured schedule from 2 ms: 2..11 ms
        assertThat(r.sent).extracting(Sent::intended)
                .containsExactly(0L, MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS, 6 * MS, 7 * MS, 8 * MS, 9 * MS, 10 * MS, 11 * MS);
        assertThat(r.sent).extracting(Sent::measured)
                .containsExactly(false, false, true, true, true, true, true, true, true, true, true, true);
        // never sent before its time (less the 20 us slack), never waited without cause
        for (Sent s : r.sent) assertThat(s.at()).isBetween(s.intended() - OpenLoop.EARLY_NANOS, s.intended() + 200_000);
        assertThat(r.plan.pacer.unsent(2 * MS, 12 * MS)).isZero();
    }

    @Test
    void busyConnectionsLeaveSlotsUnsent() throws InterruptedException {
        // two connections that never answer: two requests go out, the other eight slots are never sent
        Run r = new Run(0, 0, 10 * MS, 1000, 0);
        r.loop.offer(r.conn(false));
        r.loop.offer(r.conn(false));
        r.runToEnd();
        assertThat(r.sent).extracting(Sent::intended).containsExactly(0L, MS);
        assertThat(r.plan.pacer.unsent(0, 10 * MS)).isEqualTo(8);
    }

    @Test
    void requestLimitEndsTheSchedule() throws InterruptedException {
        Run r = new Run(0, 0, 1000 * MS, 10_000, 3);
        r.loop.offer(r.conn(true));
        r.runToEnd();
        assertThat(r.sent).hasSize(3).allMatch(Sent::measured);
        assertThat(r.plan.exhausted()).isTrue();
    }
}
