package io.cairn.bench;

import io.cairn.bench.Protocol.Op;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/** What one worker measured (owned by its event loop), and the merged total. */
final class RunStats {
    /** Latency of successful measured requests, per operation. */
    final EnumMap<Op, LatencyHistogram> latency = new EnumMap<>(Op.class);
    /** Open loop: how late each request was sent after its intended start (the client's own lag). */
    final LatencyHistogram sendLag = new LatencyHistogram();
    /** Failed measured requests by label: HTTP status, {@code timeout}, {@code connect}, {@code io}, ... */
    final Map<String, Long> errors = new TreeMap<>();
    /** Failures during the warm-up (not in the results). */
    final Map<String, Long> warmupErrors = new TreeMap<>();
    long warmupRequests;
    /** The latest completion of a measured request (nanoTime), or 0. */
    long lastMeasuredEnd;

    RunStats() {
        for (Op op : Op.values()) latency.put(op, new LatencyHistogram());
    }

    void ok(Op op, long latencyNanos, long end) {
        latency.get(op).record(latencyNanos);
        lastMeasuredEnd = Math.max(lastMeasuredEnd, end);
    }

    void error(String label, long end) {
        errors.merge(label, 1L, Long::sum);
        lastMeasuredEnd = Math.max(lastMeasuredEnd, end);
    }

    void warmupError(String label) {
        warmupErrors.merge(label, 1L, Long::sum);
    }

    long okCount() {
        long n = 0;
        for (LatencyHistogram h : latency.values()) n += h.count();
        return n;
    }

    long errorCount() {
        long n = 0;
        for (long v : errors.values()) n += v;
        return n;
    }

    LatencyHistogram all() {
        LatencyHistogram h = new LatencyHistogram();
        for (LatencyHistogram x : latency.values()) h.add(x);
        return h;
    }

    void add(RunStats other) {
        for (Op op : Op.values()) latency.get(op).add(other.latency.get(op));
        sendLag.add(other.sendLag);
        other.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
        other.warmupErrors.forEach((k, v) -> warmupErrors.merge(k, v, Long::sum));
        warmupRequests += other.warmupRequests;
        lastMeasuredEnd = Math.max(lastMeasuredEnd, other.lastMeasuredEnd);
    }
}
