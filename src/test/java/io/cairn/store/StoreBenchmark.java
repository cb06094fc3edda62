package io.cairn.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Apply throughput and query latency of {@link DocumentStore} beside raw SQLite through the same
 * driver and settings (WAL, synchronous=OFF). Prints figures, never fails; not run by the suite.
 *
 * <pre>
 *   mvn -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 *   java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.cairn.store.StoreBenchmark [docs] [rounds]
 * </pre>
 *
 * Workload: 1 KiB documents {age, city, name, bio} into a collection with two indexes
 * ({@code by_age} on age, {@code by_city} on (city, age)), ages in a scattered order, keys in
 * time order as a leader makes them. "raw" inserts the same rows (document row plus two index rows
 * with the same encoded values), "raw+history" also the small change-history row the store adds
 * (a new document's text is not copied into history). The raw query runs the store's SQL in
 * autocommit mode. Times are wall clock and CPU time of the calling thread. Rounds
 * alternate raw and store so that load from other processes hits both alike; medians are shown.
 */
public final class StoreBenchmark {
    static final int DOC_BYTES = 1024;
    static final String[] CITIES = new String[50];

    static {
        for (int i = 0; i < CITIES.length; i++) CITIES[i] = "City-" + (char) ('A' + i % 26) + i;
    }

    record Row(String key, String doc, byte[] age, byte[] city) {}

    public static void main(String[] args) throws Exception {
        int docs = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int singles = Math.min(docs, 3_000);
        List<Row> rows = rows(docs);
        Path dir = Files.createTempDirectory("cairn-bench");
        System.out.printf("Cairn store benchmark: %d docs of ~%d bytes, 2 indexes, %d rounds, %d cores, load %.1f%n",
                docs, rows.get(0).doc().length(), rounds, Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        try {
            for (int r = 0; r < rounds; r++) {
                add(rates, "raw, 1 per commit", rawInserts(dir.resolve("raw1-" + r + ".db"), rows.subList(0, singles), 1, false));
                add(rates, "store apply, 1 per txn", storeApply(dir.resolve("s1-" + r + ".db"), rows.subList(0, singles), 1, 1));
                add(rates, "raw, 100 per commit", rawInserts(dir.resolve("raw100-" + r + ".db"), rows, 100, false));
                add(rates, "raw+history, 100 per commit", rawInserts(dir.resolve("rawh100-" + r + ".db"), rows, 100, true));
                add(rates, "store applyBatch, 100 entries", storeApply(dir.resolve("s100-" + r + ".db"), rows, 100, 1));
                add(rates, "store apply, 1 Txn of 100 ops", storeApply(dir.resolve("t100-" + r + ".db"), rows, 1, 100));
            }
            System.out.println();
            System.out.println("| apply, medians | docs/s wall | vs raw | per thread-CPU-s | vs raw | per process-CPU-s | vs raw |");
            System.out.println("|---|---|---|---|---|---|---|");
            for (Map.Entry<String, List<Double>> e : rates.entrySet()) {
                if (e.getKey().endsWith("]")) continue;
                String base = e.getKey().contains("1 per") ? "raw, 1 per commit" : "raw, 100 per commit";
                double wall = median(e.getValue());
                double cpu = median(rates.get(e.getKey() + " [cpu]"));
                double proc = median(rates.get(e.getKey() + " [proc]"));
                System.out.printf("| %s | %,.0f | %.2f | %,.0f | %.2f | %,.0f | %.2f |%n", e.getKey(), wall, wall / median(rates.get(base)),
                        cpu, cpu / median(rates.get(base + " [cpu]")), proc, proc / median(rates.get(base + " [proc]")));
            }
            queries(dir, rows);
            codec(rows);
        } finally {
            StoreFixture.deleteTree(dir);
        }
    }

    static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Wall-clock and CPU time of the calling thread (SQLite runs on it) since {@link #start()}. */
    record Timing(double docsPerSec, double docsPerCpuSec, double docsPerProcessCpuSec) {}

    static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    static long[] start() {
        System.gc();
        return new long[] {System.nanoTime(), CPU.getCurrentThreadCpuTime(), OS.getProcessCpuTime()};
    }

    /** Wall clock; CPU of the applying thread (SQLite runs on it); CPU of the whole process (GC and JIT too). */
    static Timing stop(long[] t0, int docs) {
        double wall = (System.nanoTime() - t0[0]) / 1e9;
        double cpu = (CPU.getCurrentThreadCpuTime() - t0[1]) / 1e9;
        double proc = (OS.getProcessCpuTime() - t0[2]) / 1e9;
        return new Timing(docs / wall, docs / cpu, docs / proc);
    }

    static void add(Map<String, List<Double>> m, String k, Timing t) {
        m.computeIfAbsent(k, x -> new ArrayList<>()).add(t.docsPerSec());
        m.computeIfAbsent(k + " [cpu]", x -> new ArrayList<>()).add(t.docsPerCpuSec());
        m.computeIfAbsent(k + " [proc]", x -> new ArrayList<>()).add(t.docsPerProcessCpuSec());
        System.out.printf("  %-32s %,8.0f docs/s wall %,8.0f per thread-CPU-s %,8.0f per process-CPU-s%n", k,
                t.docsPerSec(), t.docsPerCpuSec(), t.docsPerProcessCpuSec());
    }

    static double median(List<Double> l) {
        double[] a = l.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }

    static List<Row> rows(int n) {
        Random rnd = new Random(42);
        List<Row> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long age = (i * 7919L) % n;
            String city = CITIES[rnd.nextInt(CITIES.length)];
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("age", age);
            m.put("city", city);
            m.put("name", "user-" + i);
            m.put("bio", "");
            int pad = DOC_BYTES - Json.write(m).length();
            StringBuilder bio = new StringBuilder(pad);
            for (int j = 0; j < pad; j++) bio.append((char) ('a' + rnd.nextInt(26)));
            m.put("bio", bio.toString());
            out.add(new Row(String.format("01J%013d", i), Json.write(m), ValueKey.encode(age), ValueKey.encode(city)));
        }
        return out;
    }

    static StoreOptions options() {
        return StoreOptions.defaults().withReadConnections(2);
    }

    static Timing storeApply(Path file, List<Row> rows, int entriesPerBatch, int opsPerTxn) {
        try (DocumentStore s = DocumentStore.open(file, options())) {
            s.apply(1, 1, new Command.CreateCollection("users", List.of(IndexSpec.of("by_age", false, "age"),
                    IndexSpec.of("by_city", false, "city", "age")), 0));
            List<Command> cmds = new ArrayList<>();
            for (int i = 0; i < rows.size(); i += opsPerTxn) {
                List<Op> ops = new ArrayList<>(opsPerTxn);
                for (int j = i; j < Math.min(rows.size(), i + opsPerTxn); j++) {
                    ops.add(new Op.Put("users", rows.get(j).key(), rows.get(j).doc()));
                }
                cmds.add(new Command.Txn(ops, 1_700_000_000_000L + i));
            }
            long index = 1;
            long[] t0 = start();
            for (int i = 0; i < cmds.size(); i += entriesPerBatch) {
                List<IndexedCommand> batch = new ArrayList<>(entriesPerBatch);
                for (int j = i; j < Math.min(cmds.size(), i + entriesPerBatch); j++) batch.add(new IndexedCommand(++index, 1, cmds.get(j)));
                for (ApplyResult r : s.applyBatch(batch)) {
                    if (!r.ok()) throw new IllegalStateException(r.toString());
                }
            }
            return stop(t0, rows.size());
        }
    }

    static Connection rawOpen(Path file) throws SQLException {
        org.sqlite.SQLiteConfig cfg = new org.sqlite.SQLiteConfig();
        cfg.setJournalMode(org.sqlite.SQLiteConfig.JournalMode.WAL);
        cfg.setSynchronous(org.sqlite.SQLiteConfig.SynchronousMode.OFF);
        cfg.setTempStore(org.sqlite.SQLiteConfig.TempStore.MEMORY);
        cfg.setCacheSize(-64 * 1024);
        cfg.setGetGeneratedKeys(false);
        Connection c = cfg.createConnection("jdbc:sqlite:" + file);
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE docs (key BLOB PRIMARY KEY, rev INTEGER NOT NULL, seq INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL)");
            st.execute("CREATE TABLE ix_age (v0 BLOB NOT NULL, key BLOB NOT NULL, PRIMARY KEY (v0, key)) WITHOUT ROWID");
            st.execute("CREATE TABLE ix_city (v0 BLOB NOT NULL, v1 BLOB NOT NULL, key BLOB NOT NULL, PRIMARY KEY (v0, v1, key)) WITHOUT ROWID");
            st.execute("CREATE TABLE history (id INTEGER PRIMARY KEY, rev INTEGER NOT NULL, seq INTEGER NOT NULL,"
                    + " time_millis INTEGER NOT NULL, op TEXT NOT NULL, collection TEXT NOT NULL, key BLOB, doc TEXT, prev TEXT)");
        }
        c.setAutoCommit(false);
        return c;
    }

    static Timing rawInserts(Path file, List<Row> rows, int perCommit, boolean history) throws SQLException {
        try (Connection c = rawOpen(file);
             PreparedStatement doc = c.prepareStatement("INSERT INTO docs (key, rev, doc) VALUES (?, ?, ?)");
             PreparedStatement age = c.prepareStatement("INSERT INTO ix_age (v0, key) VALUES (?, ?)");
             PreparedStatement city = c.prepareStatement("INSERT INTO ix_city (v0, v1, key) VALUES (?, ?, ?)");
             PreparedStatement hist = c.prepareStatement("INSERT INTO history (id, rev, seq, time_millis, op, collection, key, doc, prev)"
                     + " VALUES (?, ?, 0, 0, 'put', 'users', ?, NULL, NULL)")) {
            long[] t0 = start();
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                byte[] key = r.key().getBytes(StandardCharsets.UTF_8);
                doc.setBytes(1, key);
                doc.setLong(2, i + 2);
                doc.setString(3, r.doc());
                doc.executeUpdate();
                age.setBytes(1, r.age());
                age.setBytes(2, key);
                age.executeUpdate();
                city.setBytes(1, r.city());
                city.setBytes(2, r.age());
                city.setBytes(3, key);
                city.executeUpdate();
                if (history) {
                    hist.setLong(1, (long) (i + 2) << 16);
                    hist.setLong(2, i + 2);
                    hist.setBytes(3, key);
                    hist.executeUpdate();
                }
                if ((i + 1) % perCommit == 0) c.commit();
            }
            c.commit();
            return stop(t0, rows.size());
        }
    }

    static void queries(Path dir, List<Row> rows) throws SQLException {
        int n = rows.size();
        Path rawFile = dir.resolve("q-raw.db");
        rawInserts(rawFile, rows, 1000, false);
        Path storeFile = dir.resolve("q-store.db");
        storeApply(storeFile, rows, 100, 10);
        int runs = 2000;
        Random rnd = new Random(7);
        long[] storeNs = new long[runs];
        long[] rawNs = new long[runs];
        try (DocumentStore s = DocumentStore.open(storeFile, options());
             Connection c = readOnly(rawFile);
             PreparedStatement ps = c.prepareStatement("SELECT i.key, d.rev, d.doc FROM ix_age AS i CROSS JOIN docs AS d"
                     + " ON d.key = i.key WHERE i.v0 >= ? AND i.v0 < ? ORDER BY i.v0, i.key LIMIT 101")) {
            for (int warm = 0; warm < 2; warm++) {
                for (int i = 0; i < runs; i++) {
                    long lo = rnd.nextInt(n - 100);
                    long t0 = System.nanoTime();
                    DocPage p = s.query("users", Query.all("by_age").withGte(List.of(lo)).withLt(List.of(lo + 100))).value();
                    long t1 = System.nanoTime();
                    if (p.docs().size() != 100) throw new IllegalStateException("expected 100 docs, got " + p.docs().size());
                    ps.setBytes(1, ValueKey.encode(lo));
                    ps.setBytes(2, ValueKey.encode(lo + 100));
                    int got = 0;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            rs.getBytes(1);
                            rs.getLong(2);
                            rs.getString(3);
                            got++;
                        }
                    }
                    long t2 = System.nanoTime();
                    if (got != 100) throw new IllegalStateException("raw expected 100, got " + got);
                    storeNs[i] = t1 - t0;
                    rawNs[i] = t2 - t1;
                }
            }
        }
        Arrays.sort(storeNs);
        Arrays.sort(rawNs);
        System.out.println();
        System.out.println("| 100-doc index range query (" + n + " docs) | p50 | p99 |");
        System.out.println("|---|---|---|");
        System.out.printf("| raw SQLite (same SQL, same driver) | %.0f us | %.0f us |%n", rawNs[runs / 2] / 1e3, rawNs[runs * 99 / 100] / 1e3);
        System.out.printf("| store query | %.0f us | %.0f us |%n", storeNs[runs / 2] / 1e3, storeNs[runs * 99 / 100] / 1e3);
        System.out.printf("| ratio store/raw (p50) | %.2f | |%n", (double) storeNs[runs / 2] / rawNs[runs / 2]);
    }

    static Connection readOnly(Path file) throws SQLException {
        org.sqlite.SQLiteConfig cfg = new org.sqlite.SQLiteConfig();
        cfg.setCacheSize(-16 * 1024);
        return cfg.createConnection("jdbc:sqlite:" + file);
    }

    static void codec(List<Row> rows) {
        List<byte[]> enc = new ArrayList<>();
        long t0 = System.nanoTime();
        for (Row r : rows) enc.add(CommandCodec.encode(Command.Txn.of(0, new Op.Put("users", r.key(), r.doc()))));
        long t1 = System.nanoTime();
        for (byte[] b : enc) CommandCodec.decode(b);
        long t2 = System.nanoTime();
        System.out.println();
        System.out.printf("CommandCodec, 1 KiB put: encode %.1f us, decode %.1f us%n",
                (t1 - t0) / 1e3 / rows.size(), (t2 - t1) / 1e3 / rows.size());
    }
}
