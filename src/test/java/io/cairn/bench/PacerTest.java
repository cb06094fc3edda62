package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The open-loop schedule under a fake clock: intended starts, waits, and the latency that is
 * recorded when the target is slower than the rate (coordinated omission) or faster.
 */
class PacerTest {
    private static final long MS = 1_000_000;

    /** A fake clock and connections that each carry one request at a time with a fixed service time. */
    private static final class Sim {
        final Pacer pacer;
        final AtomicLong clock = new AtomicLong();
        final List<Long> latencies = new ArrayList<>();
        final List<Long> sends = new ArrayList<>();
        final List<Long> closedLoopLatencies = new ArrayList<>();

        Sim(long origin, double rate) {
            pacer = new Pacer(origin, rate);
            clock.set(origin);
        }

        /** Runs {@code conns} connections until {@code end}, each request taking {@code service(i)}. */
        void run(int conns, long end, java.util.function.LongUnaryOperator service) {
            long[] freeAt = new long[conns];
            java.util.Arrays.fill(freeAt, clock.get());
            while (true) {
                int c = 0;
                for (int i = 1; i < conns; i++) if (freeAt[i] < freeAt[c]) c = i;
                clock.set(freeAt[c]);                 // the clock moves to the next free connection
                if (clock.get() >= end) return;       // as Worker: no new request after the end
                Pacer.Slot s = pacer.claim(clock.get());
                if (s.intendedStart() >= end) return;
                long send = clock.get() + s.delayNanos(); // the driver waits exactly the delay
                long done = send + service.applyAsLong(s.seq());
                sends.add(send);
                latencies.add(Pacer.latency(s.intendedStart(), send, done));
                closedLoopLatencies.add(Pacer.latency(-1, send, done));
                freeAt[c] = done;
            }
        }
    }

    @Test
    void intendedStartsFollowTheRateFromTheOrigin() {
        Pacer p = new Pacer(5 * MS, 1000);
        assertThat(p.intendedStart(0)).isEqualTo(5 * MS);
        assertThat(p.intendedStart(1)).isEqualTo(6 * MS);
        assertThat(p.intendedStart(1000)).isEqualTo(1005 * MS);
        Pacer.Slot a = p.claim(5 * MS - 300);     // early: wait for the slot
        assertThat(a.seq()).isZero();
        assertThat(a.delayNanos()).isEqualTo(300);
        Pacer.Slot b = p.claim(9 * MS);           // late: send at once
        assertThat(b.seq()).isEqualTo(1);
        assertThat(b.intendedStart()).isEqualTo(6 * MS);
        assertThat(b.delayNanos()).isZero();
        assertThat(p.claimed()).isEqualTo(2);
    }

    @Test
    void slowTargetLatencyCountsFromTheIntendedStart() {
        // 1000 req/s on one connection, each request takes 3 ms: the schedule falls behind by 2 ms a request
        Sim sim = new Sim(0, 1000);
        sim.run(1, 30 * MS, seq -> 3 * MS);
        assertThat(sim.sends).startsWith(0L, 3 * MS, 6 * MS, 9 * MS);
        assertThat(sim.latencies).startsWith(3 * MS, 5 * MS, 7 * MS, 9 * MS);   // i*3 + 3 - i
        assertThat(sim.closedLoopLatencies).allMatch(l -> l == 3 * MS);      // what a closed loop would (wrongly) report
        // requests 0..9 were sent before 30 ms; slots 10..29 were due but never sent
        assertThat(sim.latencies).hasSize(10);
        assertThat(sim.pacer.unsent(0, 30 * MS)).isEqualTo(20);
    }

    @Test
    void fastTargetLatencyIsTheServiceTime() {
        Sim sim = new Sim(100 * MS, 500);            // every 2 ms
        sim.run(4, 100 * MS + 1000 * MS, seq -> 300_000);
        assertThat(sim.latencies).hasSize(500).allMatch(l -> l == 300_000);
        for (int i = 0; i < sim.sends.size(); i++) assertThat(sim.sends.get(i)).isEqualTo(100 * MS + i * 2 * MS);
        assertThat(sim.pacer.unsent(100 * MS, 1100 * MS)).isZero();
    }

    @Test
    void oneStallDelaysEveryRequestScheduledDuringIt() {
        // 2 connections at 1000/s, service 0.5 ms, but request 10 stalls for 50 ms: the other connection
        // absorbs the schedule, so only the stalled request is slow
        Sim sim = new Sim(0, 1000);
        sim.run(2, 100 * MS, seq -> seq == 10 ? 50 * MS : MS / 2);
        assertThat(sim.latencies.stream().filter(l -> l > MS)).hasSize(1);
        // one connection alone is stuck behind the stall: every slot due during it waits
        Sim one = new Sim(0, 1000);
        one.run(1, 100 * MS, seq -> seq == 10 ? 50 * MS : MS / 2);
        long slow = one.latencies.stream().filter(l -> l > MS).count();
        assertThat(slow).isGreaterThanOrEqualTo(49);                 // the backlog is measured, not omitted
        assertThat(one.latencies.get(11)).isEqualTo(60 * MS + MS / 2 - 11 * MS);
        // it catches up 0.5 ms per request and has not caught up at the end: slots 91..99 were never sent
        assertThat(one.pacer.unsent(0, 100 * MS)).isEqualTo(9);
        assertThat(sim.pacer.unsent(0, 100 * MS)).isZero();
    }

    @Test
    void windowCountsAreExactForAwkwardRates() {
        for (double rate : new double[] {1, 3, 7, 333.3, 7777, 1_000_000}) {
            Pacer p = new Pacer(17, rate);
            for (long t : new long[] {0, 17, 18, 1_000_000_017L, 123_456_789L}) {
                long n = p.slotsBefore(t);
                if (n > 0) assertThat(p.intendedStart(n - 1)).isLessThan(t);
                assertThat(p.intendedStart(n)).isGreaterThanOrEqualTo(t);
            }
        }
        Pacer p = new Pacer(0, 100);          // 10 ms apart
        for (int i = 0; i < 25; i++) p.claim(0);
        assertThat(p.unsent(100 * MS, 300 * MS)).isEqualTo(20 - 15);   // slots 10..29 wanted, 10..24 claimed
        assertThat(p.unsent(0, 100 * MS)).isZero();
    }

    @Test
    void warmUpBacklogIsDroppedWhenTheMeasuredWindowStarts() {
        Worker.Plan plan = new Worker.Plan(0, 10 * MS, 20 * MS, 1000, 0);
        // during the warm-up, a slow target leaves slots 0..2 due: they are handed out late
        assertThat(plan.claim(9 * MS).intendedStart()).isEqualTo(0);
        assertThat(plan.claim(9 * MS).intendedStart()).isEqualTo(MS);
        assertThat(plan.claim(9 * MS).intendedStart()).isEqualTo(2 * MS);
        // once the window starts, the measured schedule begins at its start, not with the warm-up's backlog
        Pacer.Slot first = plan.claim(10 * MS);
        assertThat(first.seq()).isZero();
        assertThat(first.intendedStart()).isEqualTo(10 * MS);
        assertThat(plan.claim(10 * MS).intendedStart()).isEqualTo(11 * MS);
        // a warm-up that ran ahead of its schedule hands over to the measured one, waiting for it
        Worker.Plan ahead = new Worker.Plan(0, 3 * MS, 20 * MS, 1000, 0);
        for (int i = 0; i < 3; i++) assertThat(ahead.claim(0).intendedStart()).isEqualTo(i * MS);
        Pacer.Slot next = ahead.claim(MS);
        assertThat(next.intendedStart()).isEqualTo(3 * MS);
        assertThat(next.delayNanos()).isEqualTo(2 * MS);
        assertThat(ahead.pacer.claimed()).isEqualTo(1);
        // no warm-up: one schedule; closed loop: none
        assertThat(new Worker.Plan(0, 0, 20 * MS, 1000, 0).warmupPacer).isNull();
        assertThat(new Worker.Plan(0, 5, 20 * MS, 0, 0).pacer).isNull();
    }

    @Test
    void latencyFromIntendedStartUnlessSentEarly() {
        assertThat(Pacer.latency(100, 150, 400)).isEqualTo(300);  // late send: from intended
        assertThat(Pacer.latency(100, 90, 400)).isEqualTo(310);   // a timer fired early: from the send
        assertThat(Pacer.latency(-1, 150, 400)).isEqualTo(250);   // closed loop
        assertThat(Pacer.latency(-1, 150, 100)).isZero();
    }

    @Test
    void concurrentClaimsGetDistinctSlots() throws InterruptedException {
        Pacer p = new Pacer(0, 1e6);
        ConcurrentHashMap<Long, Boolean> seen = new ConcurrentHashMap<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) assertThat(seen.put(p.claim(0).seq(), true)).isNull();
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) th.join();
        assertThat(seen).hasSize(40_000);
        assertThat(p.claimed()).isEqualTo(40_000);
    }
}
