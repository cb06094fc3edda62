package io.cairn.bench;

import io.cairn.bench.BenchOptions.Target;
import io.cairn.bench.BenchOptions.UsageException;
import io.cairn.bench.Protocol.Op;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * {@code cairn bench}: an HTTP/1.1 load generator for Cairn's API and etcd's JSON gateway. Closed
 * loop over N keep-alive connections, or open loop at a fixed rate with latency measured from each
 * request's intended start. Prints throughput, latency percentiles, errors by kind, and a CSV line.
 * Results go to the {@code out} stream, problems to {@code err}; nothing else prints.
 */
public final class Bench {
    public static final String CSV_HEADER = "kind,workload,consistency,mode,rate,connections,threads,duration_s,value_size,"
            + "keys,preload,requests,ok,errors,rps,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,mean_ms,unsent,targets";

    private final BenchOptions o;
    private final Vertx vertx;
    private final PrintStream out;
    private final PrintStream err;
    private final LongSupplier clock;

    private Bench(BenchOptions o, Vertx vertx, PrintStream out, PrintStream err, LongSupplier clock) {
        this.o = o;
        this.vertx = vertx;
        this.out = out;
        this.err = err;
        this.clock = clock;
    }

    /** {@code java -cp target/cairn.jar io.cairn.bench.Bench ARGS}, until Main routes {@code cairn bench} here. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs {@code cairn bench ARGS}, printing to standard output and error; returns the exit code. */
    public static int run(String[] args) {
        return run(args, System.out, System.err);
    }

    /**
     * Runs the tool; returns 0 when it finished without failed requests, 3 when some requests failed,
     * 1 when it could not run (target unreachable, setup or preload failed, nothing succeeded), 2 for
     * bad arguments.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals("changes")) {
            return ChangesBench.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        BenchOptions o;
        try {
            o = BenchOptions.parse(args);
        } catch (UsageException e) {
            err.println("cairn bench: " + e.getMessage());
            err.println("(cairn bench --help lists the options)");
            return 2;
        }
        if (o.help) {
            out.println(BenchOptions.USAGE);
            return 0;
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(o.threads)
                .setBlockedThreadCheckInterval(10).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS));
        try {
            return new Bench(o, vertx, out, err, System::nanoTime).execute();
        } catch (Exception e) {
            err.println("cairn bench: " + message(e));
            return 1;
        } finally {
            try {
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                err.println("cairn bench: closing the client: " + message(e));
            }
        }
    }

    /** The 1-minute system load average, or -1 where the platform has none. */
    private static double loadAverage() {
        try {
            return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        } catch (RuntimeException | LinkageError e) {
            return -1;
        }
    }

    /** True unless the JVM runs C1 only (the C2 compiler burns seconds of CPU in a short run). */
    private static boolean usesC2() {
        try {
            for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) return false;
                if (a.equals("-XX:-TieredCompilation")) return true;
            }
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    private static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
        return t.getMessage() != null ? t.getMessage() : t.toString();
    }

    /** Progress lines: with the report in text mode, on the error stream when the output is CSV. */
    private PrintStream info() {
        return o.output == BenchOptions.Output.CSV ? err : out;
    }

    private int execute() throws Exception {
        Protocol protocol = Protocol.of(o);
        info().println("cairn bench: " + o.describe());
        double loadBefore = loadAverage();
        if (usesC2()) {
            info().println("note: on a small shared machine run the client with -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
                    + " (less JIT and GC CPU taken from the target)");
        }
        if (o.workload != BenchOptions.Workload.PUT && o.workload != BenchOptions.Workload.QUERY && o.preload == 0) {
            info().println("note: no --preload, so reads may ask for keys that do not exist");
        }

        // connection i goes to target i mod T, and is owned by worker i mod threads
        List<List<Target>> perWorker = new ArrayList<>();
        for (int w = 0; w < o.threads; w++) perWorker.add(new ArrayList<>());
        for (int i = 0; i < o.connections; i++) perWorker.get(i % o.threads).add(o.targets.get(i % o.targets.size()));
        List<Worker> workers = new ArrayList<>();
        for (int w = 0; w < o.threads; w++) {
            Worker worker = new Worker(w, o, protocol, perWorker.get(w), clock);
            vertx.deployVerticle(worker).await(o.timeoutNanos + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS);
            workers.add(worker);
        }

        if (!protocol.setup().isEmpty()) {
            workers.get(0).setup(protocol.setup()).await(o.timeoutNanos * (protocol.setup().size() + 1), TimeUnit.NANOSECONDS);
        }

        if (o.preload > 0) {
            long t0 = clock.getAsLong();
            AtomicLong next = new AtomicLong();
            AtomicReference<String> failure = new AtomicReference<>();
            List<Future<Void>> all = new ArrayList<>();
            for (Worker w : workers) all.add(w.preload(next, o.preload, failure));
            Future.all(all).await();
            double secs = (clock.getAsLong() - t0) / 1e9;
            info().printf(Locale.ROOT, "preload: %d keys in %.1f s (%.0f req/s)%n", o.preload, secs, o.preload / secs);
        }

        long t0 = clock.getAsLong();
        long tStart = t0 + o.warmupNanos;
        long tEnd = tStart + o.durationNanos;
        Worker.Plan plan = new Worker.Plan(t0, tStart, tEnd, o.rate, o.maxRequests);
        Pacer pacer = plan.pacer;
        OpenLoop loop = o.openLoop() ? new OpenLoop(plan, clock, () -> workers.forEach(Worker::openLoopEnded)) : null;
        List<Future<RunStats>> runs = new ArrayList<>();
        for (Worker w : workers) runs.add(w.run(plan, loop));
        if (loop != null) loop.start();
        RunStats total = new RunStats();
        long limit = o.warmupNanos + o.durationNanos + o.timeoutNanos + TimeUnit.SECONDS.toNanos(10);
        try {
            for (RunStats s : Future.all(runs).await(limit, TimeUnit.NANOSECONDS).<RunStats>list()) total.add(s);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the run did not stop in time; no results");
        }
        // the measured window: the full duration, or up to the last answer when --requests ran out first
        boolean capped = plan.exhausted();
        long windowEnd = capped ? Math.min(tEnd, Math.max(tStart + 1, total.lastMeasuredEnd)) : tEnd;
        Result r = new Result(total, (windowEnd - tStart) / 1e9,
                pacer == null ? 0 : pacer.unsent(tStart, capped ? windowEnd : tEnd));
        report(r, loadBefore);
        if (r.ok == 0) {
            err.println("cairn bench: no request succeeded" + (r.stats.errors.isEmpty() ? "" : " (errors: " + r.stats.errors + ")"));
            return 1;
        }
        return r.errors > 0 ? 3 : 0;
    }

    /** The merged figures of one run. */
    static final class Result {
        final RunStats stats;
        final double seconds;
        final long unsent;
        final long ok;
        final long errors;
        final LatencyHistogram all;

        Result(RunStats stats, double seconds, long unsent) {
            this.stats = stats;
            this.seconds = seconds;
            this.unsent = unsent;
            this.ok = stats.okCount();
            this.errors = stats.errorCount();
            this.all = stats.all();
        }

        double rps() {
            return seconds > 0 ? ok / seconds : 0;
        }
    }

    private void report(Result r, double loadBefore) {
        if (o.output == BenchOptions.Output.CSV) {
            out.println(CSV_HEADER);
            out.println(csv(r));
            if (r.errors > 0) err.println("errors: " + errorsText(r.stats.errors));
            return;
        }
        out.printf(Locale.ROOT, "requests: %d ok, %d failed in %.2f s: %.1f req/s%n", r.ok, r.errors, r.seconds, r.rps());
        out.println("latency ms " + (o.openLoop() ? "(from intended start, open loop)" : "(from send, closed loop)")
                + ", successful requests:");
        out.println("  " + latencyLine("all", r.all));
        if (o.workload == BenchOptions.Workload.MIXED) {
            for (Op op : Op.values()) {
                LatencyHistogram h = r.stats.latency.get(op);
                if (h.count() > 0) out.println("  " + latencyLine(op == Op.PUT ? "write" : "read", h));
            }
        }
        if (o.openLoop()) {
            LatencyHistogram lag = r.stats.sendLag;
            out.printf(Locale.ROOT, "  schedule: sent behind intended start p50 %s p99 %s max %s ms; %d scheduled requests never sent%n",
                    ms(lag.valueAtPercentile(50)), ms(lag.valueAtPercentile(99)), ms(lag.max()), r.unsent);
            if (r.unsent > 0) {
                out.println("  warning: the target (or this client) could not keep up with --rate; unsent requests are not in the latencies");
            }
        }
        out.println("errors: " + (r.errors == 0 ? "none" : errorsText(r.stats.errors)));
        if (!r.stats.warmupErrors.isEmpty()) out.println("warm-up errors (not counted): " + errorsText(r.stats.warmupErrors));
        if (r.all.clamped() > 0) out.println("note: " + r.all.clamped() + " latencies above the histogram's range were clamped");
        if (loadBefore >= 0) {
            out.printf(Locale.ROOT, "host: %d CPUs, load average (1 min) %.2f before, %.2f after (client and target share them)%n",
                    Runtime.getRuntime().availableProcessors(), loadBefore, loadAverage());
        }
        out.println("BENCH_CSV_HEADER " + CSV_HEADER);
        out.println("BENCH_CSV " + csv(r));
    }

    private static String errorsText(Map<String, Long> errors) {
        StringBuilder s = new StringBuilder();
        errors.forEach((k, v) -> s.append(s.length() == 0 ? "" : ", ").append(k).append('=').append(v));
        return s.toString();
    }

    private static String latencyLine(String label, LatencyHistogram h) {
        return String.format(Locale.ROOT, "%-5s n=%d  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s", label, h.count(),
                ms(h.valueAtPercentile(50)), ms(h.valueAtPercentile(90)), ms(h.valueAtPercentile(99)),
                ms(h.valueAtPercentile(99.9)), ms(h.max()), ms((long) h.mean()));
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e6);
    }

    private String csv(Result r) {
        LatencyHistogram h = r.all;
        return String.join(",",
                BenchOptions.lower(o.kind), BenchOptions.lower(o.workload),
                o.workload == BenchOptions.Workload.PUT ? "" : BenchOptions.lower(o.consistency),
                o.openLoop() ? "open" : "closed", o.openLoop() ? String.valueOf(o.rate) : "0",
                String.valueOf(o.connections), String.valueOf(o.threads),
                String.format(Locale.ROOT, "%.3f", r.seconds), String.valueOf(o.valueSize), String.valueOf(o.keys),
                String.valueOf(o.preload), String.valueOf(r.ok + r.errors), String.valueOf(r.ok), String.valueOf(r.errors),
                String.format(Locale.ROOT, "%.1f", r.rps()),
                ms(h.valueAtPercentile(50)), ms(h.valueAtPercentile(90)), ms(h.valueAtPercentile(99)),
                ms(h.valueAtPercentile(99.9)), ms(h.max()), ms((long) h.mean()),
                String.valueOf(r.unsent), o.targetsString(";"));
    }
}
