package io.cairn.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sqlite.SQLiteConfig;

/** Plain JDBC plumbing: opening connections the same way, a per-connection statement cache, the schema. */
final class Db {
    static final int FORMAT = 1;
    /** Bytes of state.db each connection maps for reading (SQLite maps no more than the file holds). */
    static final long MMAP_BYTES = 1L << 30;

    private Db() {}

    /**
     * Opens a connection with autocommit off (sqlite-jdbc then keeps a deferred transaction open,
     * which holds no lock and no snapshot until the first statement).
     */
    static Connection open(Path file, StoreOptions o, boolean writer) throws SQLException {
        SQLiteConfig cfg = new SQLiteConfig();
        if (writer) cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
        cfg.setSynchronous(o.synchronousOff() ? SQLiteConfig.SynchronousMode.OFF : SQLiteConfig.SynchronousMode.NORMAL);
        cfg.setBusyTimeout(10_000);
        cfg.setTempStore(SQLiteConfig.TempStore.MEMORY);
        cfg.setCacheSize(-(writer ? o.cacheKiB() : Math.max(256, o.cacheKiB() / 4)));
        // Otherwise sqlite-jdbc runs a regex and prepares "SELECT last_insert_rowid()" after every insert.
        cfg.setGetGeneratedKeys(false);
        Connection c = cfg.createConnection("jdbc:sqlite:" + file.toAbsolutePath());
        try {
            if (!writer) exec(c, "PRAGMA query_only = 1");
            // Pages are read through a memory map instead of one pread per page: a reader's page cache
            // is dropped whenever the writer commits, so under writes nearly every read missed it.
            exec(c, "PRAGMA mmap_size = " + MMAP_BYTES);
            c.setAutoCommit(false);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Creates the fixed tables and the meta row if the file is new; checks the format otherwise. */
    static void ensureSchema(Connection c) throws SQLException {
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
             ResultSet rs = ps.executeQuery()) {
            exists = rs.next();
        }
        if (exists) {
            try (PreparedStatement ps = c.prepareStatement("SELECT format FROM meta WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new SQLException("state.db has no meta row");
                int f = rs.getInt(1);
                if (f != FORMAT) throw new SQLException("state.db has format " + f + "; this build reads format " + FORMAT);
            }
            c.rollback();
            return;
        }
        exec(c, "CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), format INTEGER NOT NULL,"
                + " applied_index INTEGER NOT NULL, applied_term INTEGER NOT NULL, clock_millis INTEGER NOT NULL,"
                + " catalog_version INTEGER NOT NULL, next_id INTEGER NOT NULL,"
                + " history_count INTEGER NOT NULL, history_floor INTEGER NOT NULL)");
        exec(c, "INSERT INTO meta VALUES (1, " + FORMAT + ", 0, 0, 0, 0, 1, 0, 0)");
        exec(c, "CREATE TABLE collections (name TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE,"
                + " created_rev INTEGER NOT NULL, doc_count INTEGER NOT NULL)");
        exec(c, "CREATE TABLE indexes (collection TEXT NOT NULL, name TEXT NOT NULL, id INTEGER NOT NULL UNIQUE,"
                + " fields TEXT NOT NULL, is_unique INTEGER NOT NULL, PRIMARY KEY (collection, name))");
        // id = rev << 16 | seq: rowid order is (rev, seq) order, so no second index is needed.
        exec(c, "CREATE TABLE history (id INTEGER PRIMARY KEY, rev INTEGER NOT NULL, seq INTEGER NOT NULL,"
                + " time_millis INTEGER NOT NULL, op TEXT NOT NULL, collection TEXT NOT NULL, key BLOB, doc TEXT, prev TEXT)");
        c.commit();
    }

    /** Meta row as read in the caller's transaction. */
    record Meta(long appliedIndex, long appliedTerm, long clockMillis, long catalogVersion, long nextId,
                long historyCount, long historyFloor) {
        static Meta read(Stmts s) throws SQLException {
            PreparedStatement ps = s.get("SELECT applied_index, applied_term, clock_millis, catalog_version, next_id,"
                    + " history_count, history_floor FROM meta WHERE id = 1");
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new SQLException("meta row missing");
                return new Meta(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6), rs.getLong(7));
            }
        }
    }

    /** LRU cache of prepared statements of one connection. Not thread-safe: one per connection. */
    static final class Stmts implements AutoCloseable {
        private static final int SIZE = 256;
        final Connection conn;
        private final LinkedHashMap<String, PreparedStatement> map = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> e) {
                if (size() <= SIZE) return false;
                closeQuietly(e.getValue());
                return true;
            }
        };

        Stmts(Connection conn) {
            this.conn = conn;
        }

        PreparedStatement get(String sql) throws SQLException {
            PreparedStatement ps = map.get(sql);
            if (ps == null) {
                ps = conn.prepareStatement(sql);
                map.put(sql, ps);
            }
            return ps;
        }

        void clear() {
            for (PreparedStatement ps : map.values()) closeQuietly(ps);
            map.clear();
        }

        @Override
        public void close() {
            clear();
            try {
                conn.close();
            } catch (SQLException ignored) {
                // closing: nothing more to do
            }
        }

        private static void closeQuietly(PreparedStatement ps) {
            try {
                ps.close();
            } catch (SQLException ignored) {
                // a statement that fails to close holds nothing we need
            }
        }
    }

    /** Smallest byte string greater than every string starting with {@code prefix}, or null if none. */
    static byte[] prefixEnd(byte[] prefix) {
        int n = prefix.length;
        while (n > 0 && prefix[n - 1] == (byte) 0xFF) n--;
        if (n == 0) return null;
        byte[] out = java.util.Arrays.copyOf(prefix, n);
        out[n - 1]++;
        return out;
    }
}
