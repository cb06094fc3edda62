package io.cairn.store;

import io.cairn.store.Catalog.CollectionDef;
import io.cairn.store.Catalog.IndexDef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.sqlite.SQLiteConnection;

/**
 * Cairn's deterministic document state machine on one SQLite file ({@code state.db}).
 *
 * <h2>Writes</h2>
 * {@link #apply} and {@link #applyBatch} take committed log entries in index order. One plain JDBC
 * writer connection, one SQLite transaction per call: the changes and {@code applied_index} /
 * {@code applied_term} commit together, so a crash (or close without commit) resumes exactly at
 * {@link #appliedIndex()} + 1. Applying is deterministic: the same entries give the same state on
 * every replica (no clock but the command's {@code timeMillis}, no randomness, ordered iteration).
 * Calls are serialized by an internal lock; they are meant for one thread (the state machine's).
 *
 * <h2>Reads</h2>
 * Every read method is thread-safe, runs on a pooled read connection in one read transaction (WAL:
 * never blocked by the writer), and returns a {@link Versioned} whose {@code appliedRev} is the
 * applied index of the state it saw. Missing collections, documents and indexes are
 * {@code not_found}; bad arguments {@code invalid_name}, {@code invalid_key}, {@code invalid_query}
 * or {@code bad_request}; all waiting for a read connection longer than
 * {@link StoreOptions#readWaitMillis()} {@code timeout}.
 *
 * <h2>Failures</h2>
 * A {@link CairnException} from a read is meant for the client. An {@link IllegalStateException}
 * from {@link #applyBatch} means SQLite itself failed (disk full, I/O error): the batch was rolled
 * back and the store still stands at the previous applied index; the node should stop applying.
 */
public final class DocumentStore implements AutoCloseable {
    private final Path file;
    private final StoreOptions o;
    private final Object writeLock = new Object();
    private final Writer writer;
    private final ReadPool pool;
    private volatile Catalog shared;
    private volatile long appliedIndex;
    private volatile long appliedTerm;
    private volatile boolean closed;

    private DocumentStore(Path file, StoreOptions o, Writer writer, ReadPool pool) {
        this.file = file;
        this.o = o;
        this.writer = writer;
        this.pool = pool;
        this.shared = writer.catalog;
        this.appliedIndex = writer.appliedIndex;
        this.appliedTerm = writer.appliedTerm;
    }

    /**
     * Opens (creating if needed) the store in {@code dbFile}, in WAL mode. The file must not be
     * open in another DocumentStore.
     *
     * @throws IllegalStateException if the file cannot be opened or is not a Cairn state file
     */
    public static DocumentStore open(Path dbFile, StoreOptions options) {
        Connection c = null;
        Writer w = null;
        try {
            c = Db.open(dbFile, options, true);
            Db.ensureSchema(c);
            w = new Writer(c, options);
            ReadPool pool = new ReadPool(dbFile, options);
            return new DocumentStore(dbFile, options, w, pool);
        } catch (SQLException e) {
            if (w != null) {
                w.close();
            } else if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // already failing
                }
            }
            throw new IllegalStateException("cannot open state store " + dbFile + ": " + e.getMessage(), e);
        }
    }

    public StoreOptions options() {
        return o;
    }

    /** Index of the last applied entry (0 for a new store). */
    public long appliedIndex() {
        return appliedIndex;
    }

    /** Term of the last applied entry (0 for a new store). */
    public long appliedTerm() {
        return appliedTerm;
    }

    // ---- writes ------------------------------------------------------------------------------

    /** Applies one entry; see {@link #applyBatch}. */
    public ApplyResult apply(long index, long term, Command cmd) {
        return applyBatch(List.of(new IndexedCommand(index, term, cmd))).get(0);
    }

    /**
     * Applies entries in one SQLite transaction (the fast path) and returns one result per entry,
     * in order. Entries at or below {@link #appliedIndex()} are {@link ApplyResult.Outcome#SKIPPED};
     * the rest must continue it without gaps ({@link IllegalArgumentException} otherwise, nothing
     * applied). Rejections are results, not exceptions.
     *
     * @throws IllegalStateException if SQLite failed; nothing of the batch was applied
     */
    public List<ApplyResult> applyBatch(List<IndexedCommand> entries) {
        synchronized (writeLock) {
            ensureOpen();
            if (entries.isEmpty()) return List.of();
            try {
                return writer.applyBatch(entries);
            } finally {
                publish();
            }
        }
    }

    /**
     * Makes the applied state durable (one fsync) and answers the index it covers: a Raft log may
     * then be compacted up to that index, since {@code state.db} itself holds the state.
     *
     * @throws IllegalStateException if SQLite failed
     */
    public long sync() {
        synchronized (writeLock) {
            ensureOpen();
            try {
                writer.sync();
            } catch (SQLException e) {
                throw new IllegalStateException("syncing " + file + " failed: " + e.getMessage(), e);
            }
            return writer.appliedIndex;
        }
    }

    private void publish() {
        appliedIndex = writer.appliedIndex;
        appliedTerm = writer.appliedTerm;
        Catalog c = writer.catalog;
        synchronized (this) {
            if (c.version >= shared.version) shared = c;
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("the document store is closed");
    }

    // ---- reads -------------------------------------------------------------------------------

    @FunctionalInterface
    private interface ReadFn<T> {
        T run(Db.Stmts s, Db.Meta meta, Catalog catalog) throws SQLException;
    }

    private <T> Versioned<T> read(ReadFn<T> fn) {
        ensureOpen();
        Db.Stmts s = pool.borrow();
        try {
            Db.Meta m = Db.Meta.read(s);
            Catalog cat = catalogAt(s, m.catalogVersion());
            return new Versioned<>(fn.run(s, m, cat), m.appliedIndex());
        } catch (SQLException e) {
            throw new CairnException(ErrorCode.INTERNAL, "Reading the store failed: " + e.getMessage());
        } finally {
            pool.release(s);
        }
    }

    private Catalog catalogAt(Db.Stmts s, long version) throws SQLException {
        Catalog c = shared;
        if (c.version == version) return c;
        Catalog loaded = Catalog.load(s.conn, version);
        synchronized (this) {
            if (loaded.version > shared.version) shared = loaded;
        }
        return loaded;
    }

    private static CollectionDef collection(Catalog cat, String name) {
        CollectionDef c = cat.get(name);
        if (c == null) throw new CairnException(ErrorCode.NOT_FOUND, "No collection " + Json.quoteShort(name) + ".");
        return c;
    }

    /** The document, or {@code not_found} if the collection or the document does not exist. */
    public Versioned<Document> get(String collection, String key) {
        Versioned<Document> r = find(collection, key);
        if (r.value() == null) {
            throw new CairnException(ErrorCode.NOT_FOUND, "No document " + Json.quoteShort(key)
                    + " in collection " + Json.quoteShort(collection) + ".");
        }
        return r;
    }

    /** The document, or a null value (with the applied revision) if it or its collection does not exist. */
    public Versioned<Document> find(String collection, String key) {
        Validation.name("collection", collection);
        Validation.key(key);
        return read((s, m, cat) -> {
            CollectionDef c = cat.get(collection);
            if (c == null) return null;
            PreparedStatement ps = s.get("SELECT rev, doc FROM " + c.table() + " WHERE key = ?");
            ps.setBytes(1, key.getBytes(StandardCharsets.UTF_8));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Document(key, rs.getLong(1), rs.getString(2)) : null;
            }
        });
    }

    /**
     * Documents in key order (UTF-8 bytes), those whose key starts with {@code prefix} (null: all)
     * and sorts after {@code after} (null: from the start). {@code limit} 1..pageLimitMax, 0 for
     * the default 100; a page also ends after about {@code pageBytesMax} bytes. {@code next} is the
     * last key when more may follow.
     */
    public Versioned<DocPage> list(String collection, String prefix, String after, int limit) {
        Validation.name("collection", collection);
        int lim = limit(limit, ErrorCode.BAD_REQUEST);
        byte[] lo = null;
        byte[] hi = null;
        if (prefix != null && !prefix.isEmpty()) {
            int n = Validation.utf8Length(prefix);
            if (n < 0 || n > Validation.KEY_BYTES_MAX) {
                throw new CairnException(ErrorCode.INVALID_KEY, "A prefix must be at most 512 bytes of UTF-8.");
            }
            lo = prefix.getBytes(StandardCharsets.UTF_8);
            hi = Db.prefixEnd(lo);
        }
        byte[] afterKey = null;
        if (after != null) {
            Validation.key(after);
            afterKey = after.getBytes(StandardCharsets.UTF_8);
        }
        final byte[] fLo = lo;
        final byte[] fHi = hi;
        final byte[] fAfter = afterKey;
        return read((s, m, cat) -> {
            CollectionDef c = collection(cat, collection);
            StringBuilder sql = new StringBuilder("SELECT key, rev, doc FROM ").append(c.table()).append(" WHERE 1");
            List<byte[]> args = new ArrayList<>(3);
            if (fLo != null) {
                sql.append(" AND key >= ?");
                args.add(fLo);
            }
            if (fHi != null) {
                sql.append(" AND key < ?");
                args.add(fHi);
            }
            if (fAfter != null) {
                sql.append(" AND key > ?");
                args.add(fAfter);
            }
            sql.append(" ORDER BY key LIMIT ?");
            PreparedStatement ps = s.get(sql.toString());
            int i = 1;
            for (byte[] a : args) ps.setBytes(i++, a);
            ps.setInt(i, lim + 1);
            List<Document> docs = new ArrayList<>(Math.min(lim, 256));
            String next = null;
            long bytes = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (docs.size() == lim || bytes >= o.pageBytesMax()) {
                        next = docs.get(docs.size() - 1).key();
                        break;
                    }
                    Document d = new Document(new String(rs.getBytes(1), StandardCharsets.UTF_8), rs.getLong(2), rs.getString(3));
                    bytes += d.json().length();
                    docs.add(d);
                }
            }
            return new DocPage(docs, next, null);
        });
    }

    private int limit(int limit, ErrorCode code) {
        if (limit == 0) return Math.min(StoreOptions.PAGE_LIMIT_DEFAULT, o.pageLimitMax());
        if (limit < 0 || limit > o.pageLimitMax()) {
            throw new CairnException(code, "limit must be 1 to " + o.pageLimitMax() + ".");
        }
        return limit;
    }

    /**
     * Runs an index query (API.md "Queries"): documents sorted by (index values, key), ascending or
     * descending, a page of {@code limit} with an opaque {@code next} cursor, or just the count.
     *
     * @throws CairnException {@code not_found} (collection, index), {@code invalid_query} (shape,
     *         bound longer than the index, non-scalar values, foreign or malformed cursor, limit)
     */
    public Versioned<DocPage> query(String collection, Query q) {
        Validation.name("collection", collection);
        if (q == null) throw Query.invalid("A query is required.");
        Validation.name("index", q.index());
        int lim = limit(q.limit(), ErrorCode.INVALID_QUERY);
        int families = (q.eq() != null ? 1 : 0) + (q.gt() != null || q.gte() != null || q.lt() != null || q.lte() != null ? 1 : 0);
        if (families > 1) throw Query.invalid("Use either eq or a range, not both.");
        if (q.gt() != null && q.gte() != null) throw Query.invalid("Use gt or gte, not both.");
        if (q.lt() != null && q.lte() != null) throw Query.invalid("Use lt or lte, not both.");
        QueryCursor cursor = q.after() == null || q.count() ? null
                : QueryCursor.decode(q.after(), (int) Math.min(Integer.MAX_VALUE, 4L * (o.docBytesMax() + 1024L) * o.indexFieldsMax() / 3 + 16));
        if (cursor != null && (!cursor.index().equals(q.index()) || cursor.desc() != q.desc())) {
            throw Query.invalid("The \"after\" cursor belongs to another query (index or order differ).");
        }
        return read((s, m, cat) -> {
            CollectionDef c = collection(cat, collection);
            IndexDef d = c.index(q.index());
            if (d == null) {
                throw new CairnException(ErrorCode.NOT_FOUND, "No index " + Json.quoteShort(q.index())
                        + " on collection " + Json.quoteShort(collection) + ".");
            }
            if (cursor != null && cursor.values().length != d.width()) {
                throw Query.invalid("The \"after\" cursor belongs to another index.");
            }
            StringBuilder where = new StringBuilder();
            List<byte[]> args = new ArrayList<>();
            if (q.eq() != null) {
                byte[][] b = bound("eq", q.eq(), d);
                for (int i = 0; i < b.length; i++) {
                    where.append(" AND i.v").append(i).append(" = ?");
                    args.add(b[i]);
                }
            }
            rangeCond(where, args, q.gt(), "gt", ">", d);
            rangeCond(where, args, q.gte(), "gte", ">=", d);
            rangeCond(where, args, q.lt(), "lt", "<", d);
            rangeCond(where, args, q.lte(), "lte", "<=", d);
            if (q.count()) {
                PreparedStatement ps = s.get("SELECT count(*) FROM " + d.table() + " AS i WHERE 1" + where);
                for (int i = 0; i < args.size(); i++) ps.setBytes(i + 1, args.get(i));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new DocPage(List.of(), null, rs.getLong(1));
                }
            }
            if (cursor != null) {
                where.append(" AND (");
                for (int i = 0; i < d.width(); i++) where.append("i.v").append(i).append(", ");
                where.append("i.key) ").append(q.desc() ? "<" : ">").append(" (");
                for (int i = 0; i < d.width(); i++) {
                    where.append("?, ");
                    args.add(cursor.values()[i]);
                }
                where.append("?)");
                args.add(cursor.key());
            }
            String dir = q.desc() ? " DESC" : "";
            StringBuilder sql = new StringBuilder("SELECT i.key, t.rev, t.doc");
            for (int i = 0; i < d.width(); i++) sql.append(", i.v").append(i);
            sql.append(" FROM ").append(d.table()).append(" AS i CROSS JOIN ").append(c.table())
                    .append(" AS t ON t.key = i.key WHERE 1").append(where).append(" ORDER BY ");
            for (int i = 0; i < d.width(); i++) sql.append("i.v").append(i).append(dir).append(", ");
            sql.append("i.key").append(dir).append(" LIMIT ?");
            PreparedStatement ps = s.get(sql.toString());
            int p = 1;
            for (byte[] a : args) ps.setBytes(p++, a);
            ps.setInt(p, lim + 1);
            List<Document> docs = new ArrayList<>(Math.min(lim, 256));
            byte[][] lastValues = null;
            byte[] lastKey = null;
            String next = null;
            long bytes = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (docs.size() == lim || bytes >= o.pageBytesMax()) {
                        next = new QueryCursor(d.name(), q.desc(), lastValues, lastKey).encode();
                        break;
                    }
                    lastKey = rs.getBytes(1);
                    Document doc = new Document(new String(lastKey, StandardCharsets.UTF_8), rs.getLong(2), rs.getString(3));
                    lastValues = new byte[d.width()][];
                    for (int i = 0; i < d.width(); i++) lastValues[i] = rs.getBytes(4 + i);
                    bytes += doc.json().length();
                    docs.add(doc);
                }
            }
            return new DocPage(docs, next, null);
        });
    }

    private static byte[][] bound(String name, List<Object> values, IndexDef d) {
        if (values.isEmpty() || values.size() > d.width()) {
            throw Query.invalid("\"" + name + "\" needs 1 to " + d.width() + " values for index "
                    + Json.quoteShort(d.name()) + " on " + d.spec().fields() + ".");
        }
        byte[][] out = new byte[values.size()][];
        for (int i = 0; i < out.length; i++) {
            Object v = values.get(i);
            if (!ValueKey.isScalar(v)) {
                throw Query.invalid("Query values must be null, booleans, numbers or strings, not " + Validation.kind(v) + ".");
            }
            out[i] = ValueKey.encode(v);
        }
        return out;
    }

    private static void rangeCond(StringBuilder where, List<byte[]> args, List<Object> values, String name, String op, IndexDef d) {
        if (values == null) return;
        byte[][] b = bound(name, values, d);
        where.append(" AND ");
        if (b.length == 1) {
            where.append("i.v0 ").append(op).append(" ?");
        } else {
            where.append('(');
            for (int i = 0; i < b.length; i++) where.append(i == 0 ? "" : ", ").append("i.v").append(i);
            where.append(") ").append(op).append(" (");
            for (int i = 0; i < b.length; i++) where.append(i == 0 ? "?" : ", ?");
            where.append(')');
        }
        for (byte[] x : b) args.add(x);
    }

    /** Every collection, in name order, with its document count and indexes. */
    public Versioned<List<CollectionInfo>> listCollections() {
        return read((s, m, cat) -> {
            Map<String, Long> counts = counts(s);
            List<CollectionInfo> out = new ArrayList<>(cat.size());
            for (CollectionDef c : cat.all()) {
                out.add(new CollectionInfo(c.name(), counts.getOrDefault(c.name(), 0L), c.specs(), c.createdRev()));
            }
            return out;
        });
    }

    private static Map<String, Long> counts(Db.Stmts s) throws SQLException {
        Map<String, Long> counts = new HashMap<>();
        try (ResultSet rs = s.get("SELECT name, doc_count FROM collections").executeQuery()) {
            while (rs.next()) counts.put(rs.getString(1), rs.getLong(2));
        }
        return counts;
    }

    /** One collection, or {@code not_found}. */
    public Versioned<CollectionInfo> getCollection(String name) {
        Validation.name("collection", name);
        return read((s, m, cat) -> {
            CollectionDef c = collection(cat, name);
            PreparedStatement ps = s.get("SELECT doc_count FROM collections WHERE name = ?");
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return new CollectionInfo(c.name(), rs.next() ? rs.getLong(1) : 0, c.specs(), c.createdRev());
            }
        });
    }

    /** The indexes of a collection in name order, or {@code not_found}. */
    public Versioned<List<IndexSpec>> listIndexes(String collection) {
        Validation.name("collection", collection);
        return read((s, m, cat) -> collection(cat, collection).specs());
    }

    // ---- change history ----------------------------------------------------------------------

    /**
     * Changes with {@code rev > afterRev}, in (rev, seq) order, optionally only those of one
     * collection and/or key (a {@code drop} of the collection matches any key filter). A page holds
     * about {@code limit} changes (1..pageLimitMax) but never splits a revision, so it may hold
     * more; it also stops at a revision boundary after examining {@code changesScanMax} history
     * rows or about {@code pageBytesMax} bytes. {@link ChangePage#resumeRev()} is where to go on.
     *
     * @throws CairnException {@code compacted} (410) with detail {@code oldestRev} when changes
     *         after {@code afterRev} have been trimmed: history is complete only from
     *         {@code oldestRev} on, so {@code afterRev} must be at least {@code oldestRev - 1}
     */
    public Versioned<ChangePage> changes(long afterRev, int limit, String collection, String key) {
        if (afterRev < 0) throw new CairnException(ErrorCode.BAD_REQUEST, "after must be a revision >= 0.");
        int lim = limit(limit, ErrorCode.BAD_REQUEST);
        if (collection != null) Validation.name("collection", collection);
        if (key != null) Validation.key(key);
        byte[] keyBytes = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        return read((s, m, cat) -> {
            if (afterRev < m.historyFloor()) {
                Map<String, Object> details = new java.util.LinkedHashMap<>();
                details.put("oldestRev", m.historyFloor() + 1);
                throw new CairnException(ErrorCode.COMPACTED, "The change history before revision "
                        + (m.historyFloor() + 1) + " is gone; re-read the current state and resume from its revision.", details);
            }
            if (afterRev >= m.appliedIndex()) return new ChangePage(List.of(), afterRev);
            PreparedStatement ps = s.get("SELECT rev, seq, op, collection, key, doc, prev FROM history WHERE id > ? ORDER BY id");
            ps.setLong(1, (afterRev << 16) | 0xFFFF);
            List<Change> out = new ArrayList<>();
            long resume = m.appliedIndex();
            long currentRev = -1;
            long scanned = 0;
            long bytes = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long rev = rs.getLong(1);
                    if (rev != currentRev) {
                        if (currentRev >= 0 && (out.size() >= lim || scanned >= o.changesScanMax() || bytes >= o.pageBytesMax())) {
                            resume = currentRev;
                            break;
                        }
                        currentRev = rev;
                    }
                    scanned++;
                    String coll = rs.getString(4);
                    if (collection != null && !collection.equals(coll)) continue;
                    String op = rs.getString(3);
                    byte[] k = rs.getBytes(5);
                    if (keyBytes != null && !"drop".equals(op) && !java.util.Arrays.equals(keyBytes, k)) continue;
                    String doc = rs.getString(6);
                    int seq = rs.getInt(2);
                    if (doc == null && "put".equals(op)) doc = currentVersion(s, cat, coll, k, rev, seq);
                    String prev = rs.getString(7);
                    bytes += (doc == null ? 0 : doc.length()) + (prev == null ? 0 : prev.length());
                    out.add(new Change(rev, seq, op, coll, k == null ? null : new String(k, StandardCharsets.UTF_8), doc, prev));
                }
            }
            return new ChangePage(out, resume);
        });
    }

    /**
     * The text of a history {@code put} whose row holds no copy: by the writer's invariant that
     * version is still the current document (same rev and seq) in its collection.
     */
    private static String currentVersion(Db.Stmts s, Catalog cat, String collection, byte[] key, long rev, int seq)
            throws SQLException {
        CollectionDef c = cat.get(collection);
        if (c != null) {
            PreparedStatement ps = s.get("SELECT rev, seq, doc FROM " + c.table() + " WHERE key = ?");
            ps.setBytes(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getLong(1) == rev && rs.getInt(2) == seq) return rs.getString(3);
            }
        }
        throw new SQLException("history change " + rev + "." + seq + " has no document and is not current");
    }

    // ---- snapshots ---------------------------------------------------------------------------

    /**
     * Writes a consistent copy of the store to {@code target} (replaced if it exists) by SQLite
     * online backup, while applies go on; the copy holds the index and term it covers in its meta
     * table. Thread-safe; uses its own connection and one read transaction for the whole copy (a
     * large store takes seconds: not for a thread anything waits on).
     */
    public SnapshotInfo snapshot(Path target) {
        ensureOpen();
        try {
            deleteDbFiles(target);
            long index;
            long term;
            try (Connection c = Db.open(file, o, false)) {
                try (PreparedStatement ps = c.prepareStatement("SELECT applied_index, applied_term FROM meta WHERE id = 1");
                     ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    index = rs.getLong(1);
                    term = rs.getLong(2);
                }
                // The read transaction opened above stays open: the backup copies exactly that state,
                // in one step (-1 pages), so concurrent commits can neither restart nor tear it.
                ((SQLiteConnection) c).getDatabase().backup("main", target.toAbsolutePath().toString(), null, 100, 30, -1);
                c.rollback();
            }
            SnapshotInfo info = inspect(target);
            if (info.index() != index || info.term() != term) {
                throw new IllegalStateException("snapshot records index " + info.index() + " but covered " + index);
            }
            return info;
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("snapshot to " + target + " failed: " + e.getMessage(), e);
        }
    }

    /** Reads the index and term a snapshot file covers, checking that it is a Cairn state file. */
    public static SnapshotInfo inspect(Path snapshotFile) {
        if (!Files.isRegularFile(snapshotFile)) throw new IllegalArgumentException("no snapshot file " + snapshotFile);
        try (Connection c = org.sqlite.JDBC.createConnection("jdbc:sqlite:" + snapshotFile.toAbsolutePath(), new java.util.Properties())) {
            try (PreparedStatement ps = c.prepareStatement("SELECT format, applied_index, applied_term FROM meta WHERE id = 1");
                 ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new IllegalArgumentException(snapshotFile + " has no meta row");
                if (rs.getInt(1) != Db.FORMAT) throw new IllegalArgumentException(snapshotFile + " has format " + rs.getInt(1));
                return new SnapshotInfo(snapshotFile, rs.getLong(2), rs.getLong(3), Files.size(snapshotFile));
            }
        } catch (SQLException | IOException e) {
            throw new IllegalArgumentException(snapshotFile + " is not a Cairn snapshot: " + e.getMessage(), e);
        }
    }

    /**
     * Replaces {@code dbFile} (and its WAL) with a copy of {@code snapshotFile}. No store may be
     * open on {@code dbFile}; open one afterwards. The new file appears atomically.
     */
    public static SnapshotInfo restore(Path snapshotFile, Path dbFile) {
        SnapshotInfo info = inspect(snapshotFile);
        try {
            Path tmp = dbFile.resolveSibling(dbFile.getFileName() + ".restore");
            Files.copy(snapshotFile, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(Path.of(dbFile + "-wal"));
            Files.deleteIfExists(Path.of(dbFile + "-shm"));
            Files.move(tmp, dbFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new SnapshotInfo(dbFile, info.index(), info.term(), Files.size(dbFile));
        } catch (IOException e) {
            throw new IllegalStateException("restore of " + snapshotFile + " into " + dbFile + " failed: " + e.getMessage(), e);
        }
    }

    private static void deleteDbFiles(Path f) throws IOException {
        Files.deleteIfExists(f);
        Files.deleteIfExists(Path.of(f + "-wal"));
        Files.deleteIfExists(Path.of(f + "-shm"));
        Files.deleteIfExists(Path.of(f + "-journal"));
    }

    /**
     * A canonical text of everything the store holds (meta, catalog, documents, index entries,
     * history), without internal table ids: two stores fed the same entries give equal dumps. For
     * tests and diagnostics; reads everything into memory.
     */
    public String dump() {
        return read((s, m, cat) -> {
            StringBuilder b = new StringBuilder();
            HexFormat hex = HexFormat.of();
            b.append("meta applied=").append(m.appliedIndex()).append(" term=").append(m.appliedTerm())
                    .append(" clock=").append(m.clockMillis()).append(" catalog=").append(m.catalogVersion())
                    .append(" history=").append(m.historyCount()).append(" floor=").append(m.historyFloor()).append('\n');
            Map<String, Long> counts = counts(s);
            for (CollectionDef c : cat.all()) {
                b.append("collection ").append(c.name()).append(" created=").append(c.createdRev())
                        .append(" count=").append(counts.get(c.name())).append('\n');
                try (PreparedStatement ps = s.conn.prepareStatement("SELECT key, rev, seq, doc FROM " + c.table() + " ORDER BY key");
                     ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        b.append("  doc ").append(hex.formatHex(rs.getBytes(1))).append(' ').append(rs.getLong(2))
                                .append('.').append(rs.getInt(3)).append(' ').append(rs.getString(4)).append('\n');
                    }
                }
                for (IndexDef d : c.indexes()) {
                    b.append("  index ").append(d.name()).append(' ').append(Json.write(d.spec().fields()))
                            .append(d.spec().unique() ? " unique" : "").append('\n');
                    try (PreparedStatement ps = s.conn.prepareStatement("SELECT * FROM " + d.table() + " ORDER BY "
                            + String.join(", ", cols(d)));
                         ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            b.append("   ");
                            for (int i = 1; i <= d.width() + 1; i++) b.append(' ').append(hex.formatHex(rs.getBytes(i)));
                            b.append('\n');
                        }
                    }
                }
            }
            try (PreparedStatement ps = s.conn.prepareStatement(
                    "SELECT rev, seq, time_millis, op, collection, key, doc, prev FROM history ORDER BY id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] k = rs.getBytes(6);
                    b.append("change ").append(rs.getLong(1)).append('.').append(rs.getInt(2)).append(" t=").append(rs.getLong(3))
                            .append(' ').append(rs.getString(4)).append(' ').append(rs.getString(5)).append(' ')
                            .append(k == null ? "-" : hex.formatHex(k)).append(' ').append(rs.getString(7))
                            .append(' ').append(rs.getString(8)).append('\n');
                }
            }
            return b.toString();
        }).value();
    }

    private static List<String> cols(IndexDef d) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < d.width(); i++) out.add("v" + i);
        out.add("key");
        return out;
    }

    /** Closes every connection. Call after reads and applies have stopped. Idempotent. */
    @Override
    public void close() {
        synchronized (writeLock) {
            if (closed) return;
            closed = true;
            pool.close();
            writer.close();
        }
    }
}
