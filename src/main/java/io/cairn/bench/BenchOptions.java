package io.cairn.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** The parsed and checked command line of {@code cairn bench}. Immutable. */
public final class BenchOptions {
    /** A command line that cannot be run; the message says what to change. */
    public static final class UsageException extends IllegalArgumentException {
        public UsageException(String message) {
            super(message);
        }
    }

    public enum Kind { CAIRN, ETCD }

    public enum Workload { PUT, GET, QUERY, MIXED }

    public enum Consistency { LINEARIZABLE, LEASE, LOCAL }

    public enum Output { TEXT, CSV }

    /** A host and port to send requests to. */
    public record Target(String host, int port) {
        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    static final long MAX_DURATION_NANOS = 24L * 3600 * 1_000_000_000L;
    static final int MAX_CONNECTIONS = 10_000;
    static final int MAX_VALUE_SIZE = 1 << 20;
    private static final Pattern NAME = Pattern.compile("^[A-Za-z][A-Za-z0-9_-]{0,63}$");
    /** Plain decimal numbers only: Double.parseDouble would also take "2d", "0x1p3" or "NaN". */
    private static final Pattern DECIMAL = Pattern.compile("^[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?$");
    private static final Pattern UNSIGNED = Pattern.compile("^(\\d+\\.?\\d*|\\.\\d+)$");

    public static final String USAGE = String.join("\n",
            "Usage: cairn bench [options]   (load generator for Cairn and etcd's JSON gateway)",
            "       cairn bench changes [options]   (change-stream fan-out; see cairn bench changes --help)",
            "  --target-kind cairn|etcd   API to speak (default cairn)",
            "  --target HOST:PORT[,...]   node(s); connections are spread round-robin (default 127.0.0.1:8080,",
            "                             127.0.0.1:2379 for etcd); repeatable",
            "  --workload put|get|query|mixed   (default put)",
            "  --connections N            keep-alive HTTP/1.1 connections, one request in flight each (default 16)",
            "  --threads N                client event loops (default min(connections, CPUs))",
            "  --rate R                   open loop at R req/s in total, latency from each request's intended",
            "                             start (a warm-up backlog is dropped when measuring starts);",
            "                             0 = closed loop, latency from the actual send (default 0)",
            "  --duration D               measured time, e.g. 10s, 500ms, 2m (default 10s)",
            "  --warmup D                 unmeasured time before it (default 2s)",
            "  --requests N               stop after N measured requests, 0 = no limit (default 0)",
            "  --value-size B             value bytes, e.g. 256, 1k (default 256)",
            "  --keys N                   key space key-00000000..; writes pick uniformly in it (default 100000)",
            "  --preload N                write keys 0..N-1 first; reads then pick among them (default 0,",
            "                             10000 for query)",
            "  --read-fraction F          share of reads in mixed (default 0.5)",
            "  --consistency linearizable|lease|local   reads (etcd: local = serializable; no lease)",
            "  --collection NAME          Cairn collection (default bench)",
            "  --query-limit N            documents per query: an index range (etcd: a key range) (default 100)",
            "  --key-prefix P             (default key-)",
            "  --timeout D                per request (default 5s)",
            "  --seed N                   random seed (default: time)",
            "  --output text|csv          csv: only a header line and one data line (default text)",
            "Exit: 0 done without errors, 3 done with failed requests, 1 could not run, 2 bad arguments.");

    final Kind kind;
    final List<Target> targets;
    final Workload workload;
    final int connections;
    final int threads;
    final double rate;
    final long durationNanos;
    final long warmupNanos;
    final long maxRequests;
    final int valueSize;
    final long keys;
    final long preload;
    final double readFraction;
    final Consistency consistency;
    final String collection;
    final int queryLimit;
    final String keyPrefix;
    final long timeoutNanos;
    final long seed;
    final Output output;
    final boolean help;

    private BenchOptions(Builder b) {
        kind = b.kind;
        targets = List.copyOf(b.targets);
        workload = b.workload;
        connections = b.connections;
        threads = b.threads;
        rate = b.rate;
        durationNanos = b.durationNanos;
        warmupNanos = b.warmupNanos;
        maxRequests = b.maxRequests;
        valueSize = b.valueSize;
        keys = b.keys;
        preload = b.preload;
        readFraction = b.readFraction;
        consistency = b.consistency;
        collection = b.collection;
        queryLimit = b.queryLimit;
        keyPrefix = b.keyPrefix;
        timeoutNanos = b.timeoutNanos;
        seed = b.seed;
        output = b.output;
        help = b.help;
    }

    public boolean openLoop() {
        return rate > 0;
    }

    /** Reads pick keys among the preloaded ones when there are any, else in the whole key space. */
    public long readKeySpace() {
        return preload > 0 ? preload : keys;
    }

    private static final class Builder {
        Kind kind = Kind.CAIRN;
        List<Target> targets = new ArrayList<>();
        Workload workload = Workload.PUT;
        int connections = 16;
        int threads = -1;
        double rate = 0;
        long durationNanos = 10_000_000_000L;
        long warmupNanos = 2_000_000_000L;
        long maxRequests = 0;
        int valueSize = 256;
        long keys = 100_000;
        long preload = -1;
        double readFraction = -1;
        Consistency consistency = null;
        String collection = "bench";
        int queryLimit = 100;
        String keyPrefix = "key-";
        long timeoutNanos = 5_000_000_000L;
        long seed = System.nanoTime();
        Output output = Output.TEXT;
        boolean help;
    }

    /** Parses {@code args} ({@code --name value} or {@code --name=value}); throws {@link UsageException}. */
    public static BenchOptions parse(String[] args) {
        return parse(args, Runtime.getRuntime().availableProcessors());
    }

    static BenchOptions parse(String[] args, int cpus) {
        Builder b = new Builder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("bench") && i == 0) continue; // tolerate the sub-command word
            if (a.equals("--help") || a.equals("-h")) {
                b.help = true;
                continue;
            }
            if (!a.startsWith("--")) throw new UsageException("unexpected argument '" + a + "' (options start with --)");
            String name;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(2, eq);
                value = a.substring(eq + 1);
            } else {
                name = a.substring(2);
                if (i + 1 >= args.length) throw new UsageException("--" + name + " needs a value");
                value = args[++i];
            }
            apply(b, name, value);
        }
        return check(b, cpus);
    }

    private static void apply(Builder b, String name, String v) {
        switch (name) {
            case "target-kind": b.kind = enumOf(Kind.class, name, v); break;
            case "target":
                for (String t : v.split(",")) b.targets.add(target(t.trim()));
                break;
            case "workload": b.workload = enumOf(Workload.class, name, v); break;
            case "connections": b.connections = (int) longIn(name, v, 1, MAX_CONNECTIONS); break;
            case "threads": b.threads = (int) longIn(name, v, 1, 256); break;
            case "rate": b.rate = doubleIn(name, v, 0, 10_000_000); break;
            case "duration": b.durationNanos = duration(name, v, false); break;
            case "warmup": b.warmupNanos = duration(name, v, true); break;
            case "requests": b.maxRequests = longIn(name, v, 0, Long.MAX_VALUE / 2); break;
            case "value-size": b.valueSize = (int) size(name, v, 1, MAX_VALUE_SIZE); break;
            case "keys": b.keys = longIn(name, v, 1, 100_000_000); break;
            case "preload": b.preload = longIn(name, v, 0, 100_000_000); break;
            case "read-fraction": b.readFraction = doubleIn(name, v, 0, 1); break;
            case "consistency": b.consistency = enumOf(Consistency.class, name, v); break;
            case "collection":
                if (!NAME.matcher(v).matches()) throw new UsageException("--collection must match " + NAME.pattern());
                b.collection = v;
                break;
            case "query-limit": b.queryLimit = (int) longIn(name, v, 1, 10_000); break;
            case "key-prefix":
                if (v.isEmpty() || v.length() > 400) throw new UsageException("--key-prefix must be 1..400 characters");
                b.keyPrefix = v;
                break;
            case "timeout": b.timeoutNanos = duration(name, v, false); break;
            case "seed": b.seed = longIn(name, v, Long.MIN_VALUE, Long.MAX_VALUE); break;
            case "output": b.output = enumOf(Output.class, name, v); break;
            default: throw new UsageException("unknown option --" + name + " (see --help)");
        }
    }

    private static BenchOptions check(Builder b, int cpus) {
        if (b.targets.isEmpty()) b.targets.add(new Target("127.0.0.1", b.kind == Kind.ETCD ? 2379 : 8080));
        if (b.threads < 0) b.threads = Math.max(1, Math.min(b.connections, cpus));
        if (b.threads > b.connections) {
            throw new UsageException("--threads (" + b.threads + ") must not exceed --connections (" + b.connections + ")");
        }
        if (b.readFraction >= 0 && b.workload != Workload.MIXED) {
            throw new UsageException("--read-fraction applies to --workload mixed only");
        }
        if (b.readFraction < 0) b.readFraction = 0.5;
        if (b.consistency != null && b.workload == Workload.PUT) {
            throw new UsageException("--consistency applies to reads (get, query, mixed), not put");
        }
        if (b.consistency == null) b.consistency = Consistency.LINEARIZABLE;
        if (b.kind == Kind.ETCD && b.consistency == Consistency.LEASE) {
            throw new UsageException("etcd's gateway has no lease reads: use linearizable or local (serializable)");
        }
        if (b.preload < 0) b.preload = b.workload == Workload.QUERY ? Math.min(10_000, b.keys) : 0;
        if (b.preload > b.keys) {
            throw new UsageException("--preload (" + b.preload + ") must not exceed --keys (" + b.keys + ")");
        }
        if (b.workload == Workload.QUERY && b.preload < b.queryLimit) {
            throw new UsageException("query needs --preload of at least --query-limit (" + b.queryLimit + ") documents");
        }
        if (b.warmupNanos + b.durationNanos > MAX_DURATION_NANOS) {
            throw new UsageException("--warmup plus --duration must not exceed 24h");
        }
        return new BenchOptions(b);
    }

    static Target target(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) throw new UsageException("--target '" + s + "' is not HOST:PORT");
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty() || host.contains("/")) throw new UsageException("--target '" + s + "' has no valid host");
        return new Target(host, (int) longIn("target", s.substring(colon + 1), 1, 65535));
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String name, String v) {
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) return e;
        }
        StringBuilder all = new StringBuilder();
        for (E e : type.getEnumConstants()) all.append(all.length() == 0 ? "" : "|").append(e.name().toLowerCase(Locale.ROOT));
        throw new UsageException("--" + name + " must be one of " + all + ", not '" + v + "'");
    }

    static long longIn(String name, String v, long lo, long hi) {
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a whole number, not '" + v + "'");
        }
        if (n < lo || n > hi) throw new UsageException("--" + name + " must be in " + lo + ".." + hi + ", not " + n);
        return n;
    }

    static double doubleIn(String name, String v, double lo, double hi) {
        if (!DECIMAL.matcher(v.trim()).matches()) throw new UsageException("--" + name + " must be a number, not '" + v + "'");
        double d = Double.parseDouble(v.trim());
        if (!(d >= lo && d <= hi)) throw new UsageException("--" + name + " must be in " + lo + ".." + hi + ", not " + v);
        return d;
    }

    /** Sizes: a whole number of bytes, or with suffix k/K (KiB) or m/M (MiB). */
    static long size(String name, String v, long lo, long hi) {
        String s = v.trim();
        long mult = 1;
        if (s.endsWith("k") || s.endsWith("K")) {
            mult = 1024;
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("m") || s.endsWith("M")) {
            mult = 1024 * 1024;
            s = s.substring(0, s.length() - 1);
        }
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(s), mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("--" + name + " must be a size such as 256 or 1k, not '" + v + "'");
        }
        if (n < lo || n > hi) throw new UsageException("--" + name + " must be in " + lo + ".." + hi + " bytes, not " + n);
        return n;
    }

    /** Durations: a number with unit ms, s, m or h; a bare number is seconds. */
    static long duration(String name, String v, boolean zeroOk) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        double unit;
        if (s.endsWith("ms")) {
            unit = 1e6;
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("s")) {
            unit = 1e9;
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("m")) {
            unit = 60e9;
            s = s.substring(0, s.length() - 1);
        } else if (s.endsWith("h")) {
            unit = 3600e9;
            s = s.substring(0, s.length() - 1);
        } else {
            unit = 1e9;
        }
        if (!UNSIGNED.matcher(s).matches()) {
            throw new UsageException("--" + name + " must be a duration such as 10s or 500ms, not '" + v + "'");
        }
        double d = Double.parseDouble(s);
        double nanos = d * unit;
        if (!(nanos >= 0) || nanos > MAX_DURATION_NANOS) {
            throw new UsageException("--" + name + " must be between 0 and 24h, not '" + v + "'");
        }
        if (!zeroOk && nanos < 1e6) throw new UsageException("--" + name + " must be at least 1ms, not '" + v + "'");
        return (long) nanos;
    }

    /** A one-line description of the run, for the report header. */
    String describe() {
        StringBuilder s = new StringBuilder();
        s.append("kind=").append(lower(kind)).append(" workload=").append(lower(workload));
        if (workload == Workload.MIXED) s.append(" read-fraction=").append(readFraction);
        if (workload != Workload.PUT) s.append(" consistency=").append(lower(consistency));
        s.append(" targets=").append(targetsString(";"));
        s.append(" connections=").append(connections).append(" threads=").append(threads);
        s.append(openLoop() ? " mode=open rate=" + fmt(rate) + "/s" : " mode=closed");
        s.append(" value=").append(valueSize).append("B keys=").append(keys).append(" preload=").append(preload);
        if (workload == Workload.QUERY) s.append(" query-limit=").append(queryLimit);
        s.append(" duration=").append(fmt(durationNanos / 1e9)).append("s warmup=").append(fmt(warmupNanos / 1e9)).append('s');
        if (maxRequests > 0) s.append(" requests<=").append(maxRequests);
        return s.toString();
    }

    String targetsString(String sep) {
        StringBuilder s = new StringBuilder();
        for (Target t : targets) s.append(s.length() == 0 ? "" : sep).append(t);
        return s.toString();
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
