package io.cairn.log;

import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import io.cairn.raft.HardState;
import io.cairn.raft.Membership;
import io.cairn.raft.SnapshotMeta;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable Raft log of one node in {@code raft-log.db} (SQLite, WAL, {@code synchronous=FULL}):
 * entries, the hard state (term, vote, commit) and the meta of the last snapshot (index, term,
 * membership then). Every write is one SQLite transaction and one fsync; a call returns only once
 * its change is on disk.
 *
 * <p>Invariant, checked on open and kept by every write: the stored entries after the snapshot
 * are exactly the indexes {@code snapshot.index + 1 .. lastIndex()}, with no gap. Entries at or
 * below the snapshot's index are dead: nothing reads them, and each later {@link #persist}
 * deletes up to {@link #TRIM_ROWS_PER_WRITE} of them in its own transaction. (Deleting the 100,000
 * entries a snapshot covers at once took 300-450 ms here, and every write waited for it.)
 *
 * <p><b>Threading.</b> One thread at a time: the node's writer (a worker, or {@code executeBlocking}
 * on one ordered context). Calls that overlap from two threads fail with
 * {@link IllegalStateException}; successive calls from different threads are fine (the guard
 * gives them a happens-before edge). Never call it on an event loop: every write waits for fsync.
 *
 * <p><b>Errors.</b> Argument and ordering errors throw {@link IllegalStateException} or
 * {@link IllegalArgumentException} before anything is written. A storage failure throws
 * {@link LogStoreException}, rolls back, and leaves the store failed: later calls throw too and
 * the node must restart from the file.
 */
public final class RaftLogStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RaftLogStore.class);
    private static final int SCHEMA_VERSION = 1;
    /** Dead entries (at or below the snapshot) deleted along with each write. */
    static final int TRIM_ROWS_PER_WRITE = 500;

    /** What {@link #load()} finds: the hard state, the last snapshot meta and the entries after it. */
    public record Restored(HardState hardState, SnapshotMeta snapshot, List<Entry> entries) {
        public Restored {
            entries = List.copyOf(entries);
        }
    }

    private final Path file;
    private final RaftLogOptions options;
    private final Connection conn;
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private final PreparedStatement insertEntry;
    private final PreparedStatement updateHardState;
    private HardState hardState;
    private SnapshotMeta snapshot;
    private long lastIndex;
    /** The lowest index that may still be stored; dead entries remain while it is at or below the snapshot. */
    private long storedFrom;
    private boolean failed;
    private boolean closed;
    /** Tests only: runs inside each write transaction just before commit. */
    Runnable beforeCommitHook;

    private RaftLogStore(Path file, RaftLogOptions options, Connection conn) throws SQLException {
        this.file = file;
        this.options = options;
        this.conn = conn;
        this.insertEntry = conn.prepareStatement("INSERT INTO entries (idx, term, type, data) VALUES (?, ?, ?, ?)");
        this.updateHardState = conn.prepareStatement("UPDATE state SET term = ?, vote = ?, commit_index = ? WHERE id = 1");
    }

    public static RaftLogStore open(Path file) {
        return open(file, RaftLogOptions.DEFAULTS);
    }

    /**
     * Opens (creating if absent) the log at {@code file} and checks its invariants. The file is
     * locked for this process (SQLite exclusive locking mode): a second node on the same data
     * directory fails here instead of corrupting the log.
     */
    public static RaftLogStore open(Path file, RaftLogOptions options) {
        Objects.requireNonNull(options, "options");
        Connection conn = null;
        try {
            conn = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            configure(conn);
            createSchema(conn);
            RaftLogStore store = new RaftLogStore(file, options, conn);
            store.readState();
            return store;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(conn);
            if (e instanceof LogStoreException lse) throw lse;
            throw new LogStoreException("cannot open raft log " + file + ": " + e.getMessage(), e);
        }
    }

    private static void configure(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("PRAGMA busy_timeout = 0");
            st.execute("PRAGMA locking_mode = EXCLUSIVE");
            st.execute("PRAGMA journal_mode = WAL");
            st.execute("PRAGMA synchronous = FULL");
            st.execute("PRAGMA foreign_keys = OFF");
        }
    }

    private static void createSchema(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement()) {
            int version = queryInt(st, "PRAGMA user_version");
            if (version != 0 && version != SCHEMA_VERSION) {
                throw new LogStoreException("raft log schema version " + version + " is not " + SCHEMA_VERSION);
            }
            st.execute("CREATE TABLE IF NOT EXISTS entries ("
                    + "idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL, data BLOB NOT NULL)");
            st.execute("CREATE TABLE IF NOT EXISTS state ("
                    + "id INTEGER PRIMARY KEY CHECK (id = 1), term INTEGER NOT NULL, vote TEXT,"
                    + " commit_index INTEGER NOT NULL, snapshot_index INTEGER NOT NULL,"
                    + " snapshot_term INTEGER NOT NULL, snapshot_membership BLOB NOT NULL)");
            st.execute("PRAGMA user_version = " + SCHEMA_VERSION);
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "INSERT OR IGNORE INTO state VALUES (1, 0, NULL, 0, 0, 0, ?)")) {
            ps.setBytes(1, MembershipCodec.encode(Membership.EMPTY));
            ps.executeUpdate();
        }
        conn.setAutoCommit(false);
    }

    private void readState() throws SQLException {
        try (Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT term, vote, commit_index, snapshot_index, snapshot_term,"
                        + " snapshot_membership FROM state WHERE id = 1")) {
            if (!rs.next()) throw new LogStoreException("raft log " + file + " has no state row");
            hardState = new HardState(rs.getLong(1), rs.getString(2), rs.getLong(3));
            snapshot = new SnapshotMeta(rs.getLong(4), rs.getLong(5), MembershipCodec.decode(rs.getBytes(6)));
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT count(*), min(idx), max(idx) FROM entries WHERE idx > ?")) {
            ps.setLong(1, snapshot.index());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long count = rs.getLong(1);
                long min = rs.getLong(2);
                long max = rs.getLong(3);
                if (count > 0 && (min != snapshot.index() + 1 || max - min + 1 != count)) {
                    throw new LogStoreException("raft log " + file + " is not contiguous after snapshot "
                            + snapshot.index() + ": " + count + " entries in [" + min + ", " + max + "]");
                }
                lastIndex = count == 0 ? snapshot.index() : max;
            }
        }
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT min(idx) FROM entries")) {
            rs.next();
            storedFrom = rs.getObject(1) == null ? snapshot.index() + 1 : Math.min(rs.getLong(1), snapshot.index() + 1);
        }
        conn.commit();
        log.info("opened raft log {}: term {}, snapshot {}@{}, entries ({}, {}]", file, hardState.term(),
                snapshot.index(), snapshot.term(), snapshot.index(), lastIndex);
    }

    /**
     * Reads everything a restarting node needs. All entries after the snapshot come into memory
     * (the Raft core keeps the unsnapshotted suffix there); the load fails with
     * {@link LogStoreException} if they weigh more than {@link RaftLogOptions#loadBytesMax()}.
     * The current membership is the last MEMBERSHIP entry among them, else the snapshot's.
     */
    public Restored load() {
        enter();
        try {
            List<Entry> entries = readEntries(snapshot.index() + 1, lastIndex + 1, options.loadBytesMax(), true);
            return new Restored(hardState, snapshot, entries);
        } finally {
            exit();
        }
    }

    /**
     * Writes a hard state and/or entries in one transaction with one fsync (the group commit).
     * {@code hardState} may be null (unchanged); {@code entries} may be empty; they must be
     * contiguous, start after the snapshot and at most one past {@link #lastIndex()}. If they start
     * at or before the last index, the stored suffix from their first index is deleted first (the
     * caller found a conflict). The batch must respect {@link RaftLogOptions}' limits.
     */
    public void persist(HardState hardState, List<Entry> entries) {
        Objects.requireNonNull(entries, "entries");
        enter();
        try {
            checkHardState(hardState);
            checkBatch(entries);
            if (hardState == null && entries.isEmpty()) return;
            long[] trimmedTo = {storedFrom};
            inTransaction(() -> {
                if (!entries.isEmpty()) writeEntries(entries);
                if (hardState != null) writeHardState(hardState);
                trimmedTo[0] = trimDead();
            });
            storedFrom = trimmedTo[0];
            if (!entries.isEmpty()) lastIndex = entries.get(entries.size() - 1).index();
            if (hardState != null) this.hardState = hardState;
        } finally {
            exit();
        }
    }

    /**
     * Records the meta of the first snapshot-less configuration: allowed only on an empty log
     * with no snapshot. The membership comes back from {@link #load()} as the snapshot's.
     */
    public void bootstrap(Membership membership) {
        Objects.requireNonNull(membership, "membership");
        enter();
        try {
            if (snapshot.index() != 0 || lastIndex != 0) {
                throw new IllegalStateException("bootstrap needs an empty log; last index is " + lastIndex);
            }
            SnapshotMeta meta = new SnapshotMeta(0, 0, membership);
            inTransaction(() -> writeSnapshotMeta(meta));
            snapshot = meta;
        } finally {
            exit();
        }
    }

    /**
     * After this node took a snapshot covering {@code meta.index()}: records the meta; the entries
     * up to it are dead from now on and deleted a few at a time by later writes. The entry at
     * {@code meta.index()} must be stored with {@code meta.term()} (or be the current snapshot point).
     */
    public void compact(SnapshotMeta meta) {
        Objects.requireNonNull(meta, "meta");
        enter();
        try {
            if (meta.index() < snapshot.index() || meta.index() > lastIndex) {
                throw new IllegalStateException("compact to " + meta.index() + " outside [" + snapshot.index()
                        + ", " + lastIndex + "]");
            }
            long term = termAt(meta.index()).orElseThrow();
            if (term != meta.term()) {
                throw new IllegalStateException("compact to " + meta.index() + "@" + meta.term()
                        + " but the log has term " + term + " there");
            }
            inTransaction(() -> writeSnapshotMeta(meta));
            snapshot = meta;
        } finally {
            exit();
        }
    }

    /** How many entries the file holds, dead ones included: for tests. */
    long storedEntries() {
        enter();
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM entries")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new LogStoreException("counting entries", e);
        } finally {
            endRead();
            exit();
        }
    }

    /**
     * After this node received a snapshot from the leader: records the meta and deletes the log it
     * replaces. Raft (paper §7): if the log holds an entry at {@code meta.index()} with
     * {@code meta.term()}, the entries after it are kept; otherwise the whole log goes.
     *
     * @return whether a suffix after the snapshot was kept
     */
    public boolean installSnapshot(SnapshotMeta meta) {
        Objects.requireNonNull(meta, "meta");
        enter();
        try {
            if (meta.index() <= snapshot.index()) {
                throw new IllegalStateException("snapshot " + meta.index() + " is not after the current one "
                        + snapshot.index());
            }
            boolean keep = termAt(meta.index()).orElse(-1) == meta.term();
            inTransaction(() -> {
                if (!keep) deleteAfter(meta.index()); // a conflicting suffix; what the snapshot covers is dead
                writeSnapshotMeta(meta);
            });
            snapshot = meta;
            if (!keep) lastIndex = meta.index();
            return keep;
        } finally {
            exit();
        }
    }

    /**
     * Entries in {@code [from, toExclusive)}, stopping before the total passes {@code maxBytes}
     * but always returning at least one entry when the range is not empty. The range must lie
     * within {@code [firstIndex(), lastIndex() + 1]}.
     */
    public List<Entry> entries(long from, long toExclusive, long maxBytes) {
        enter();
        try {
            if (from <= snapshot.index() || toExclusive > lastIndex + 1 || from > toExclusive) {
                throw new IllegalStateException("entries [" + from + ", " + toExclusive + ") outside ["
                        + firstIndex() + ", " + (lastIndex + 1) + ")");
            }
            return readEntries(from, toExclusive, maxBytes, false);
        } finally {
            exit();
        }
    }

    /** The term of the entry at {@code index}, the snapshot's term at its index, else empty. */
    public OptionalLong term(long index) {
        enter();
        try {
            return termAt(index);
        } finally {
            exit();
        }
    }

    /** The first index an entry can have: one past the snapshot. Equals lastIndex() + 1 when empty. */
    public long firstIndex() {
        return snapshot.index() + 1;
    }

    /** The index of the last stored entry, or the snapshot's index when no entry follows it. */
    public long lastIndex() {
        return lastIndex;
    }

    public HardState hardState() {
        return hardState;
    }

    public SnapshotMeta snapshot() {
        return snapshot;
    }

    @Override
    public void close() {
        if (!user.compareAndSet(null, Thread.currentThread())) {
            throw new IllegalStateException("close while another thread uses the raft log");
        }
        try {
            if (closed) return;
            closed = true;
            insertEntry.close();
            updateHardState.close();
            conn.close();
        } catch (SQLException e) {
            throw new LogStoreException("closing raft log " + file, e);
        } finally {
            exit();
        }
    }

    // ---- checks

    private void checkHardState(HardState hs) {
        if (hs != null && hs.term() < hardState.term()) {
            throw new IllegalStateException("term going back from " + hardState.term() + " to " + hs.term());
        }
    }

    private void checkBatch(List<Entry> entries) {
        if (entries.isEmpty()) return;
        if (entries.size() > options.batchEntriesMax()) {
            throw new IllegalArgumentException(entries.size() + " entries exceed batchEntriesMax " + options.batchEntriesMax());
        }
        long first = entries.get(0).index();
        if (first <= snapshot.index() || first > lastIndex + 1) {
            throw new IllegalStateException("entries start at " + first + ", outside [" + firstIndex() + ", "
                    + (lastIndex + 1) + "]");
        }
        long bytes = 0;
        Entry prev = null;
        for (Entry e : entries) {
            if (prev != null && (e.index() != prev.index() + 1 || e.term() < prev.term())) {
                throw new IllegalStateException("entry " + e.index() + "@" + e.term() + " does not follow "
                        + prev.index() + "@" + prev.term());
            }
            bytes += e.sizeBytes();
            prev = e;
        }
        if (bytes > options.batchBytesMax()) {
            throw new IllegalArgumentException(bytes + " bytes exceed batchBytesMax " + options.batchBytesMax());
        }
    }

    private void enter() {
        if (!user.compareAndSet(null, Thread.currentThread())) {
            throw new IllegalStateException("raft log used by two threads at once (owner " + user.get() + ")");
        }
        if (closed || failed) {
            exit();
            throw new LogStoreException("raft log " + file + " is " + (closed ? "closed" : "failed"));
        }
    }

    private void exit() {
        user.set(null);
    }

    // ---- SQL

    @FunctionalInterface
    private interface SqlWork {
        void run() throws SQLException;
    }

    private void inTransaction(SqlWork work) {
        try {
            work.run();
            if (beforeCommitHook != null) beforeCommitHook.run();
            conn.commit();
        } catch (SQLException | RuntimeException e) {
            failed = true;
            rollbackQuietly();
            log.error("raft log {} write failed; the store is now failed and the node must restart", file, e);
            throw new LogStoreException("raft log write failed: " + e.getMessage(), e);
        }
    }

    private void writeEntries(List<Entry> entries) throws SQLException {
        long first = entries.get(0).index();
        if (first <= lastIndex) {
            try (PreparedStatement ps = conn.prepareStatement("DELETE FROM entries WHERE idx >= ?")) {
                ps.setLong(1, first);
                ps.executeUpdate();
            }
        }
        for (Entry e : entries) {
            insertEntry.setLong(1, e.index());
            insertEntry.setLong(2, e.term());
            insertEntry.setInt(3, typeCode(e.type()));
            insertEntry.setBytes(4, e.data());
            insertEntry.addBatch();
        }
        insertEntry.executeBatch();
    }

    private void writeHardState(HardState hs) throws SQLException {
        updateHardState.setLong(1, hs.term());
        updateHardState.setString(2, hs.votedFor());
        updateHardState.setLong(3, hs.commit());
        updateHardState.executeUpdate();
    }

    private void writeSnapshotMeta(SnapshotMeta meta) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE state SET snapshot_index = ?, snapshot_term = ?, snapshot_membership = ? WHERE id = 1")) {
            ps.setLong(1, meta.index());
            ps.setLong(2, meta.term());
            ps.setBytes(3, MembershipCodec.encode(meta.membership()));
            ps.executeUpdate();
        }
    }

    /** Deletes up to {@link #TRIM_ROWS_PER_WRITE} dead entries; answers the new {@link #storedFrom}. */
    private long trimDead() throws SQLException {
        if (storedFrom > snapshot.index()) return storedFrom;
        long lowest;
        try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT min(idx) FROM entries")) {
            rs.next();
            lowest = rs.getObject(1) == null ? Long.MAX_VALUE : rs.getLong(1);
        }
        if (lowest > snapshot.index()) return snapshot.index() + 1;
        long through = Math.min(snapshot.index(), lowest + TRIM_ROWS_PER_WRITE - 1);
        try (PreparedStatement ps = conn.prepareStatement("DELETE FROM entries WHERE idx <= ?")) {
            ps.setLong(1, through);
            ps.executeUpdate();
        }
        return through + 1;
    }

    private void deleteAfter(long index) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("DELETE FROM entries WHERE idx > ?")) {
            ps.setLong(1, index);
            ps.executeUpdate();
        }
    }

    private OptionalLong termAt(long index) {
        if (index == snapshot.index()) return OptionalLong.of(snapshot.term());
        if (index < snapshot.index() || index > lastIndex) return OptionalLong.empty();
        try (PreparedStatement ps = conn.prepareStatement("SELECT term FROM entries WHERE idx = ?")) {
            ps.setLong(1, index);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new LogStoreException("raft log has no entry " + index + " below last " + lastIndex);
                return OptionalLong.of(rs.getLong(1));
            }
        } catch (SQLException e) {
            throw new LogStoreException("reading term of " + index, e);
        } finally {
            endRead();
        }
    }

    /** Reads [from, to); past maxBytes it stops (strict: fails instead), keeping at least one entry. */
    private List<Entry> readEntries(long from, long to, long maxBytes, boolean strict) {
        List<Entry> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT idx, term, type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")) {
            ps.setLong(1, from);
            ps.setLong(2, to);
            long bytes = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Entry e = new Entry(rs.getLong(1), rs.getLong(2), typeOf(rs.getInt(3)), rs.getBytes(4));
                    if (e.index() != from + out.size()) throw new LogStoreException("raft log gap before " + e.index());
                    bytes += e.sizeBytes();
                    if (bytes > maxBytes && !out.isEmpty()) {
                        if (strict) throw new LogStoreException("unsnapshotted log exceeds loadBytesMax " + maxBytes);
                        break;
                    }
                    out.add(e);
                }
            }
        } catch (SQLException e) {
            throw new LogStoreException("reading entries [" + from + ", " + to + ")", e);
        } finally {
            endRead();
        }
        return out;
    }

    /** Ends the implicit read transaction so it does not pin the WAL. */
    private void endRead() {
        try {
            conn.commit();
        } catch (SQLException e) {
            throw new LogStoreException("ending read", e);
        }
    }

    private static int typeCode(EntryType type) {
        return switch (type) {
            case NORMAL -> 0;
            case NOOP -> 1;
            case MEMBERSHIP -> 2;
        };
    }

    private static EntryType typeOf(int code) {
        return switch (code) {
            case 0 -> EntryType.NORMAL;
            case 1 -> EntryType.NOOP;
            case 2 -> EntryType.MEMBERSHIP;
            default -> throw new LogStoreException("unknown entry type code " + code);
        };
    }

    private static int queryInt(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private void rollbackQuietly() {
        try {
            conn.rollback();
        } catch (SQLException e) {
            log.warn("rollback of raft log {} failed", file, e);
        }
    }

    private static void closeQuietly(Connection conn) {
        if (conn == null) return;
        try {
            conn.close();
        } catch (SQLException e) {
            log.warn("closing raft log connection failed", e);
        }
    }
}
