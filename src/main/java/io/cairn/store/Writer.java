package io.cairn.store;

import io.cairn.store.Catalog.CollectionDef;
import io.cairn.store.Catalog.IndexDef;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The single writer of state.db: applies commands, one SQLite transaction per batch. Owned by
 * {@link DocumentStore}, which serializes calls; not thread-safe by itself.
 *
 * <p>Every op checks everything that can reject it before it writes anything, so a rejected
 * single-op command needs no undo in SQLite; a multi-op Txn and CreateIndex run inside a SAVEPOINT
 * that is rolled back on rejection. In-memory state (catalog, counts, history counters) is put back
 * from a copy taken before the command.
 */
final class Writer implements AutoCloseable {
    /** History ids are {@code rev << 16 | seq}: revisions must stay below 2^47. */
    static final long INDEX_LIMIT = 1L << 47;

    private final Connection conn;
    private final Db.Stmts stmts;
    private final StoreOptions o;

    long appliedIndex;
    long appliedTerm;
    private long clockMillis;
    private long catalogVersion;
    private long nextId;
    private long historyCount;
    private long historyFloor;
    /** Time of the oldest history row, or -1 if not known (then trimming looks it up). */
    private long oldestHistoryMillis = -1;
    Catalog catalog;
    private final Map<Long, Long> counts = new HashMap<>();
    private final Set<Long> dirtyCounts = new HashSet<>();

    // Per-command undo state.
    private final List<long[]> countUndo = new ArrayList<>();
    private int seq;

    Writer(Connection conn, StoreOptions o) throws SQLException {
        this.conn = conn;
        this.stmts = new Db.Stmts(conn);
        this.o = o;
        load();
    }

    private void load() throws SQLException {
        stmts.clear();
        Db.Meta m = Db.Meta.read(stmts);
        appliedIndex = m.appliedIndex();
        appliedTerm = m.appliedTerm();
        clockMillis = m.clockMillis();
        catalogVersion = m.catalogVersion();
        nextId = m.nextId();
        historyCount = m.historyCount();
        historyFloor = m.historyFloor();
        oldestHistoryMillis = -1;
        catalog = Catalog.load(conn, catalogVersion);
        counts.clear();
        dirtyCounts.clear();
        try (PreparedStatement ps = conn.prepareStatement("SELECT id, doc_count FROM collections");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) counts.put(rs.getLong(1), rs.getLong(2));
        }
        conn.rollback();
    }

    /**
     * Forces everything committed so far to disk: one transaction committed with
     * {@code synchronous=FULL} syncs the WAL, and with it every earlier commit (batches are
     * otherwise committed with {@code NORMAL}, which does not sync: the Raft log replays them).
     * The transaction must write a page, or its commit syncs nothing: SQLite skips an UPDATE that
     * leaves a row as it was, so it flips {@code applied_index} and flips it back (the page is
     * written, the content ends unchanged). Nothing to sync while nothing is applied.
     */
    void sync() throws SQLException {
        conn.rollback(); // no batch is open between calls
        setSynchronous("FULL");
        try (Statement st = conn.createStatement()) {
            st.executeUpdate("UPDATE meta SET applied_index = -applied_index WHERE id = 1");
            st.executeUpdate("UPDATE meta SET applied_index = -applied_index WHERE id = 1");
            conn.commit();
        } catch (SQLException e) {
            conn.rollback();
            throw e;
        } finally {
            setSynchronous(o.synchronousOff() ? "OFF" : "NORMAL");
        }
    }

    /** The level cannot change inside a transaction, and the driver keeps one open while autocommit is off. */
    private void setSynchronous(String level) throws SQLException {
        conn.setAutoCommit(true);
        try (Statement st = conn.createStatement()) {
            st.execute("PRAGMA synchronous = " + level);
        } finally {
            conn.setAutoCommit(false);
        }
    }

    /**
     * Applies entries in one transaction. Entries at or below the applied index are skipped; the
     * others must follow it without a gap. On an SQLite failure nothing of the batch stays, the
     * in-memory state is reloaded, and the failure is thrown.
     */
    List<ApplyResult> applyBatch(List<IndexedCommand> entries) {
        long expect = appliedIndex;
        for (IndexedCommand e : entries) {
            if (e.index() <= expect) continue;
            if (e.index() >= INDEX_LIMIT) throw new IllegalArgumentException("index " + e.index() + " is beyond 2^47");
            if (e.index() != expect + 1) {
                throw new IllegalArgumentException("entry " + e.index() + " does not follow applied index " + expect
                        + ": entries must be applied in order without gaps");
            }
            expect = e.index();
        }
        List<ApplyResult> results = new ArrayList<>(entries.size());
        boolean any = false;
        try {
            for (IndexedCommand e : entries) {
                if (e.index() <= appliedIndex) {
                    results.add(ApplyResult.skipped(e.index()));
                    continue;
                }
                results.add(applyOne(e.index(), e.command()));
                appliedIndex = e.index();
                appliedTerm = e.term();
                any = true;
            }
            if (any) {
                trimHistory();
                flushCounts();
                writeMeta();
                conn.commit();
            }
            return results;
        } catch (SQLException | RuntimeException ex) {
            try {
                conn.rollback();
                load();
            } catch (SQLException again) {
                ex.addSuppressed(again);
            }
            throw new IllegalStateException("applying entries " + entries.get(0).index() + ".." + expect
                    + " failed and was rolled back to index " + appliedIndex + ": " + ex.getMessage(), ex);
        }
    }

    private ApplyResult applyOne(long index, Command c) throws SQLException {
        clockMillis = Math.max(clockMillis, c.timeMillis());
        seq = 0;
        countUndo.clear();
        Catalog catalogBefore = catalog;
        long versionBefore = catalogVersion;
        long nextIdBefore = nextId;
        long historyBefore = historyCount;
        boolean savepoint = needsSavepoint(c);
        if (savepoint) Db.exec(conn, "SAVEPOINT cmd");
        try {
            if (c.timeMillis() < 0) throw new CairnException(ErrorCode.BAD_REQUEST, "timeMillis must not be negative.");
            ApplyResult r = dispatch(index, c);
            if (savepoint) Db.exec(conn, "RELEASE cmd");
            return r;
        } catch (CairnException rejected) {
            if (savepoint) {
                Db.exec(conn, "ROLLBACK TO cmd");
                Db.exec(conn, "RELEASE cmd");
            }
            if (catalog != catalogBefore) stmts.clear();
            catalog = catalogBefore;
            catalogVersion = versionBefore;
            nextId = nextIdBefore;
            historyCount = historyBefore;
            for (int i = countUndo.size() - 1; i >= 0; i--) {
                long[] u = countUndo.get(i);
                if (u[1] < 0) {
                    counts.remove(u[0]);
                } else {
                    counts.put(u[0], u[1]);
                }
            }
            return ApplyResult.rejected(index, rejected);
        }
    }

    private static boolean needsSavepoint(Command c) {
        if (c instanceof Command.Txn t) return t.ops().size() > 1;
        return c instanceof Command.CreateIndex;
    }

    private ApplyResult dispatch(long index, Command c) throws SQLException {
        if (c instanceof Command.Txn t) return applyTxn(index, t);
        if (c instanceof Command.Noop) return ApplyResult.applied(index, false, List.of());
        if (c instanceof Command.CreateCollection cc) return createCollection(index, cc);
        if (c instanceof Command.DropCollection dc) return dropCollection(index, dc);
        if (c instanceof Command.CreateIndex ci) return createIndex(index, ci);
        if (c instanceof Command.DropIndex di) return dropIndex(index, di);
        throw new IllegalStateException("unknown command " + c.getClass().getName());
    }

    // ---- transactions ------------------------------------------------------------------------

    private ApplyResult applyTxn(long index, Command.Txn t) throws SQLException {
        Object[] parsed = Validation.txn(t, o, name -> {
            CollectionDef c = catalog.get(name);
            return c == null ? NO_PATHS : c.paths();
        });
        List<ApplyResult.OpResult> out = new ArrayList<>(t.ops().size());
        for (int i = 0; i < parsed.length; i++) {
            Op op = t.ops().get(i);
            if (op instanceof Op.Insert ins && ins.key() == null) {
                op = new Op.Insert(ins.collection(), Op.generatedKey(index, i), ins.docJson());
            }
            try {
                out.add(applyOp(index, op, parsed[i]));
            } catch (CairnException e) {
                throw Validation.withFailedOp(e, i);
            }
        }
        return ApplyResult.applied(index, false, out);
    }

    private static final String[][] NO_PATHS = new String[0][];

    /**
     * Index entries of a document for each index of {@code coll} (null where it is not indexed).
     * {@code parsed} is a tree or the {@link Validation.Scanned} values of {@code json}.
     */
    private static byte[][][] entriesOf(CollectionDef coll, Object parsed, String json) {
        List<IndexDef> idx = coll.indexes();
        byte[][][] out = new byte[idx.size()][][];
        if (idx.isEmpty()) return out;
        if (parsed instanceof Validation.Scanned sc) {
            Object[] values = sc.paths() == coll.paths() ? sc.values() : Json.scan(json, Json.DEPTH_CEILING, coll.paths());
            for (int i = 0; i < out.length; i++) out[i] = coll.entry(i, values);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = idx.get(i).entry(parsed);
        }
        return out;
    }

    /** Index entries of a stored document, scanned without building it. */
    private static byte[][][] storedEntries(CollectionDef coll, String json) {
        byte[][][] out = new byte[coll.indexes().size()][][];
        if (out.length == 0) return out;
        Object[] values = Json.scan(json, Json.DEPTH_CEILING, coll.paths());
        for (int i = 0; i < out.length; i++) out[i] = coll.entry(i, values);
        return out;
    }

    /** A stored version: its rev, the seq of the change that wrote it, its text. */
    private record Stored(long rev, int seq, String json) {}

    @SuppressWarnings("unchecked")
    private ApplyResult.OpResult applyOp(long index, Op op, Object parsed) throws SQLException {
        CollectionDef coll = catalog.get(op.collection());
        byte[] key = op.key().getBytes(StandardCharsets.UTF_8);
        if (coll != null && (op instanceof Op.Insert || (op instanceof Op.Put p && p.ifRev() == null))) {
            String json = op instanceof Op.Put p ? p.docJson() : ((Op.Insert) op).docJson();
            ApplyResult.OpResult r = tryCreate(index, coll, op, key, parsed, json);
            if (r != null) return r;
            if (op instanceof Op.Insert) {
                throw new CairnException(ErrorCode.CONFLICT, "Cannot insert: " + describe(op, select(coll, key)) + " already.");
            }
        }
        Stored old = coll == null ? null : select(coll, key);
        if (op instanceof Op.Check c) {
            long have = old == null ? 0 : old.rev;
            if (have != c.rev()) {
                throw new CairnException(ErrorCode.PRECONDITION_FAILED, "Check failed: " + describe(op, old)
                        + ", expected " + (c.rev() == 0 ? "no document" : "rev " + c.rev()) + ".");
            }
            return new ApplyResult.OpResult(op.key(), have, false);
        }
        if (op instanceof Op.Put p) {
            checkIfRev(p.ifRev(), op, old);
            return write(index, coll, op, key, old, parsed, p.docJson());
        }
        if (op instanceof Op.Insert) {
            if (old != null) {
                throw new CairnException(ErrorCode.CONFLICT, "Cannot insert: " + describe(op, old) + " already.");
            }
            return write(index, coll, op, key, null, parsed, ((Op.Insert) op).docJson());
        }
        if (op instanceof Op.Patch p) {
            checkIfRev(p.ifRev(), op, old);
            if (old == null) throw notFound(op);
            Object merged = Json.mergePatch(Json.parse(old.json, Json.DEPTH_CEILING), parsed);
            if (Json.depth(merged) > o.nestingDepthMax()) {
                throw new CairnException(ErrorCode.INVALID_JSON,
                        "The patched document would nest deeper than " + o.nestingDepthMax() + " levels.");
            }
            String json = Json.write(merged);
            if (Validation.utf8Length(json) > o.docBytesMax()) {
                throw new CairnException(ErrorCode.PAYLOAD_TOO_LARGE,
                        "The patched document would be larger than " + o.docBytesMax() + " bytes.");
            }
            return write(index, coll, op, key, old, merged, json);
        }
        if (op instanceof Op.Delete d) {
            checkIfRev(d.ifRev(), op, old);
            if (old == null) throw notFound(op);
            return delete(index, coll, op, key, old);
        }
        throw new IllegalStateException("unknown op " + op.getClass().getName());
    }

    private static CairnException notFound(Op op) {
        return new CairnException(ErrorCode.NOT_FOUND, "No document " + Json.quoteShort(op.key())
                + " in collection " + Json.quoteShort(op.collection()) + ".");
    }

    private static String describe(Op op, Stored old) {
        String what = "document " + Json.quoteShort(op.key()) + " in " + Json.quoteShort(op.collection());
        return old == null ? what + " does not exist" : what + " is at rev " + old.rev;
    }

    private static void checkIfRev(Long ifRev, Op op, Stored old) {
        if (ifRev == null) return;
        if (ifRev == 0 && old != null) {
            throw new CairnException(ErrorCode.PRECONDITION_FAILED,
                    "Precondition failed: " + describe(op, old) + ", expected no document.");
        }
        if (ifRev > 0 && (old == null || old.rev != ifRev)) {
            throw new CairnException(ErrorCode.PRECONDITION_FAILED,
                    "Precondition failed: " + describe(op, old) + ", expected rev " + ifRev + ".");
        }
    }

    private Stored select(CollectionDef coll, byte[] key) throws SQLException {
        PreparedStatement ps = stmts.get("SELECT rev, seq, doc FROM " + coll.table() + " WHERE key = ?");
        ps.setBytes(1, key);
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new Stored(rs.getLong(1), rs.getInt(2), rs.getString(3)) : null;
        }
    }

    /** Put, insert and patch: checks unique indexes, then writes the document, its index entries and history. */
    private ApplyResult.OpResult write(long index, CollectionDef coll, Op op, byte[] key, Stored old,
                                       Object parsed, String json) throws SQLException {
        byte[][][] oldEntries = null;
        byte[][][] newEntries = null;
        if (coll != null && !coll.indexes().isEmpty()) {
            List<IndexDef> idx = coll.indexes();
            oldEntries = old == null ? new byte[idx.size()][][] : storedEntries(coll, old.json);
            newEntries = entriesOf(coll, parsed, json);
            for (int i = 0; i < idx.size(); i++) {
                IndexDef d = idx.get(i);
                if (d.spec().unique() && newEntries[i] != null && !Arrays.deepEquals(oldEntries[i], newEntries[i])) {
                    checkUnique(coll, d, newEntries[i]);
                }
            }
        }
        if (coll == null) coll = createCollectionRow(index, op.collection(), List.of());
        if (old == null) {
            PreparedStatement ps = stmts.get("INSERT INTO " + coll.table() + " (key, rev, seq, doc) VALUES (?, ?, ?, ?)");
            ps.setBytes(1, key);
            ps.setLong(2, index);
            ps.setInt(3, seq);
            ps.setString(4, json);
            ps.executeUpdate();
            countDelta(coll.id(), +1);
        } else {
            materialize(old);
            PreparedStatement ps = stmts.get("UPDATE " + coll.table() + " SET rev = ?, seq = ?, doc = ? WHERE key = ?");
            ps.setLong(1, index);
            ps.setInt(2, seq);
            ps.setString(3, json);
            ps.setBytes(4, key);
            ps.executeUpdate();
        }
        if (newEntries != null) {
            List<IndexDef> idx = coll.indexes();
            for (int i = 0; i < idx.size(); i++) {
                if (Arrays.deepEquals(oldEntries[i], newEntries[i])) continue;
                if (oldEntries[i] != null) deleteEntry(idx.get(i), oldEntries[i], key);
                if (newEntries[i] != null) insertEntry(idx.get(i), newEntries[i], key);
            }
        }
        history(index, "put", coll.name(), key, null, old == null ? null : old.json);
        return new ApplyResult.OpResult(op.key(), index, old == null);
    }

    /**
     * The fast path of put (without ifRev) and insert: insert the row unless the key exists (null
     * then, nothing written), so a new document costs no lookup. Unique checks run after the row
     * insert; the own key has no index entries yet, so any hit is another document, and on a clash
     * the row is deleted again before the rejection, leaving nothing behind.
     */
    private ApplyResult.OpResult tryCreate(long index, CollectionDef coll, Op op, byte[] key, Object parsed,
                                           String json) throws SQLException {
        PreparedStatement ins = stmts.get("INSERT INTO " + coll.table() + " (key, rev, seq, doc) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (key) DO NOTHING");
        ins.setBytes(1, key);
        ins.setLong(2, index);
        ins.setInt(3, seq);
        ins.setString(4, json);
        if (ins.executeUpdate() == 0) return null;
        List<IndexDef> idx = coll.indexes();
        byte[][][] entries = entriesOf(coll, parsed, json);
        try {
            for (int i = 0; i < idx.size(); i++) {
                if (entries[i] != null && idx.get(i).spec().unique()) checkUnique(coll, idx.get(i), entries[i]);
            }
        } catch (CairnException clash) {
            PreparedStatement del = stmts.get("DELETE FROM " + coll.table() + " WHERE key = ?");
            del.setBytes(1, key);
            del.executeUpdate();
            throw clash;
        }
        for (int i = 0; i < idx.size(); i++) {
            if (entries[i] != null) insertEntry(idx.get(i), entries[i], key);
        }
        countDelta(coll.id(), +1);
        history(index, "put", coll.name(), key, null, null);
        return new ApplyResult.OpResult(op.key(), index, true);
    }

    private ApplyResult.OpResult delete(long index, CollectionDef coll, Op op, byte[] key, Stored old) throws SQLException {
        byte[][][] oldEntries = storedEntries(coll, old.json);
        for (int i = 0; i < oldEntries.length; i++) {
            if (oldEntries[i] != null) deleteEntry(coll.indexes().get(i), oldEntries[i], key);
        }
        materialize(old);
        PreparedStatement ps = stmts.get("DELETE FROM " + coll.table() + " WHERE key = ?");
        ps.setBytes(1, key);
        ps.executeUpdate();
        countDelta(coll.id(), -1);
        history(index, "delete", coll.name(), key, null, old.json);
        return new ApplyResult.OpResult(op.key(), index, false);
    }

    /**
     * A history {@code put} row keeps {@code doc} NULL while its version is the current document
     * (the text lives once, in the collection table). When that version is replaced, deleted or
     * dropped, its text is copied into the row (a no-op if the row was trimmed).
     */
    private void materialize(Stored version) throws SQLException {
        PreparedStatement ps = stmts.get("UPDATE history SET doc = ? WHERE id = ?");
        ps.setString(1, version.json);
        ps.setLong(2, (version.rev << 16) | version.seq);
        ps.executeUpdate();
    }

    private void checkUnique(CollectionDef coll, IndexDef d, byte[][] entry) throws SQLException {
        PreparedStatement ps = stmts.get(d.uniqueSql());
        for (int i = 0; i < entry.length; i++) ps.setBytes(i + 1, entry[i]);
        try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                String other = new String(rs.getBytes(1), StandardCharsets.UTF_8);
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("index", d.name());
                details.put("key", other);
                throw new CairnException(ErrorCode.UNIQUE_VIOLATION, "The unique index " + Json.quoteShort(d.name())
                        + " of collection " + Json.quoteShort(coll.name()) + " already maps these values to document "
                        + Json.quoteShort(other) + ".", details);
            }
        }
    }

    private void insertEntry(IndexDef d, byte[][] entry, byte[] key) throws SQLException {
        PreparedStatement ps = stmts.get(d.insertSql());
        for (int i = 0; i < entry.length; i++) ps.setBytes(i + 1, entry[i]);
        ps.setBytes(entry.length + 1, key);
        ps.executeUpdate();
    }

    private void deleteEntry(IndexDef d, byte[][] entry, byte[] key) throws SQLException {
        PreparedStatement ps = stmts.get(d.deleteSql());
        for (int i = 0; i < entry.length; i++) ps.setBytes(i + 1, entry[i]);
        ps.setBytes(entry.length + 1, key);
        ps.executeUpdate();
    }

    private void countDelta(long collId, long delta) {
        Long before = counts.get(collId);
        countUndo.add(new long[] {collId, before == null ? -1 : before});
        counts.put(collId, (before == null ? 0 : before) + delta);
        dirtyCounts.add(collId);
    }

    private void history(long index, String op, String collection, byte[] key, String doc, String prev) throws SQLException {
        if (seq >= (1 << 16)) throw new IllegalStateException("more than 65536 changes in one revision");
        PreparedStatement ps = stmts.get("INSERT INTO history (id, rev, seq, time_millis, op, collection, key, doc, prev)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        ps.setLong(1, (index << 16) | seq);
        ps.setLong(2, index);
        ps.setInt(3, seq);
        ps.setLong(4, clockMillis);
        ps.setString(5, op);
        ps.setString(6, collection);
        ps.setBytes(7, key);
        ps.setString(8, doc);
        ps.setString(9, prev);
        ps.executeUpdate();
        seq++;
        historyCount++;
    }

    // ---- catalog -----------------------------------------------------------------------------

    private CollectionDef createCollectionRow(long index, String name, List<IndexSpec> specs) throws SQLException {
        if (catalog.size() >= o.collectionsMax()) {
            throw new CairnException(ErrorCode.BAD_REQUEST,
                    "The store already holds the most collections allowed (" + o.collectionsMax() + ").");
        }
        long id = nextId++;
        Db.exec(conn, "CREATE TABLE c_" + id + " (key BLOB PRIMARY KEY, rev INTEGER NOT NULL, seq INTEGER NOT NULL, doc TEXT NOT NULL)");
        PreparedStatement ps = stmts.get("INSERT INTO collections (name, id, created_rev, doc_count) VALUES (?, ?, ?, 0)");
        ps.setString(1, name);
        ps.setLong(2, id);
        ps.setLong(3, index);
        ps.executeUpdate();
        CollectionDef def = new CollectionDef(id, name, index, List.of());
        countUndo.add(new long[] {id, -1});
        counts.put(id, 0L);
        catalogChanged(index, catalog.with(index, def));
        for (IndexSpec s : specs) def = addIndexTable(index, def, s);
        return def;
    }

    private CollectionDef addIndexTable(long index, CollectionDef coll, IndexSpec spec) throws SQLException {
        long id = nextId++;
        IndexDef d = IndexDef.of(id, spec);
        StringBuilder sql = new StringBuilder("CREATE TABLE ").append(d.table()).append(" (");
        for (int i = 0; i < d.width(); i++) sql.append('v').append(i).append(" BLOB NOT NULL, ");
        sql.append("key BLOB NOT NULL, PRIMARY KEY (");
        for (int i = 0; i < d.width(); i++) sql.append('v').append(i).append(", ");
        sql.append("key)) WITHOUT ROWID");
        Db.exec(conn, sql.toString());
        PreparedStatement ps = stmts.get("INSERT INTO indexes (collection, name, id, fields, is_unique) VALUES (?, ?, ?, ?, ?)");
        ps.setString(1, coll.name());
        ps.setString(2, spec.name());
        ps.setLong(3, id);
        ps.setString(4, Json.write(spec.fields()));
        ps.setInt(5, spec.unique() ? 1 : 0);
        ps.executeUpdate();
        CollectionDef updated = coll.withIndex(d);
        catalogChanged(index, catalog.with(index, updated));
        return updated;
    }

    private void catalogChanged(long index, Catalog next) {
        catalog = next;
        catalogVersion = index;
    }

    private ApplyResult createCollection(long index, Command.CreateCollection cc) throws SQLException {
        Validation.createCollection(cc, o);
        CollectionDef existing = catalog.get(cc.name());
        if (existing != null) {
            for (IndexSpec s : cc.indexes()) {
                IndexDef d = existing.index(s.name());
                if (d == null || !d.spec().equals(s)) {
                    throw new CairnException(ErrorCode.CONFLICT, "Collection " + Json.quoteShort(cc.name())
                            + " exists with other indexes: index " + Json.quoteShort(s.name())
                            + (d == null ? " is missing" : " is defined differently") + ".");
                }
            }
            return ApplyResult.applied(index, false, List.of());
        }
        createCollectionRow(index, cc.name(), cc.indexes());
        return ApplyResult.applied(index, true, List.of());
    }

    private ApplyResult dropCollection(long index, Command.DropCollection dc) throws SQLException {
        Validation.name("collection", dc.name());
        CollectionDef coll = catalog.get(dc.name());
        if (coll == null) throw collectionNotFound(dc.name());
        try (PreparedStatement scan = conn.prepareStatement("SELECT rev, seq, doc FROM " + coll.table() + " WHERE rev > ?")) {
            scan.setLong(1, historyFloor);
            ResultSet rs = scan.executeQuery();
            while (rs.next()) materialize(new Stored(rs.getLong(1), rs.getInt(2), rs.getString(3)));
        }
        stmts.clear();
        for (IndexDef d : coll.indexes()) Db.exec(conn, "DROP TABLE " + d.table());
        Db.exec(conn, "DROP TABLE " + coll.table());
        PreparedStatement ps = stmts.get("DELETE FROM indexes WHERE collection = ?");
        ps.setString(1, coll.name());
        ps.executeUpdate();
        ps = stmts.get("DELETE FROM collections WHERE name = ?");
        ps.setString(1, coll.name());
        ps.executeUpdate();
        counts.remove(coll.id());
        dirtyCounts.remove(coll.id());
        catalogChanged(index, catalog.without(index, coll.name()));
        history(index, "drop", coll.name(), null, null, null);
        return ApplyResult.applied(index, false, List.of());
    }

    private static CairnException collectionNotFound(String name) {
        return new CairnException(ErrorCode.NOT_FOUND, "No collection " + Json.quoteShort(name) + ".");
    }

    private ApplyResult createIndex(long index, Command.CreateIndex ci) throws SQLException {
        Validation.name("collection", ci.collection());
        Validation.indexSpec(ci.index(), o);
        CollectionDef coll = catalog.get(ci.collection());
        if (coll != null) {
            IndexDef existing = coll.index(ci.index().name());
            if (existing != null) {
                if (existing.spec().equals(ci.index())) return ApplyResult.applied(index, false, List.of());
                throw new CairnException(ErrorCode.CONFLICT, "Index " + Json.quoteShort(ci.index().name())
                        + " of collection " + Json.quoteShort(ci.collection()) + " exists with another definition.");
            }
            if (coll.indexes().size() >= o.indexesPerCollectionMax()) {
                throw new CairnException(ErrorCode.BAD_REQUEST, "Collection " + Json.quoteShort(ci.collection())
                        + " already has the most indexes allowed (" + o.indexesPerCollectionMax() + ").");
            }
        } else if (o.indexesPerCollectionMax() < 1) {
            throw new CairnException(ErrorCode.BAD_REQUEST, "Indexes are not allowed (indexesPerCollectionMax = 0).");
        }
        if (coll == null) coll = createCollectionRow(index, ci.collection(), List.of());
        coll = addIndexTable(index, coll, ci.index());
        IndexDef d = coll.index(ci.index().name());
        try (PreparedStatement scan = conn.prepareStatement("SELECT key, doc FROM " + coll.table() + " ORDER BY key");
             ResultSet rs = scan.executeQuery()) {
            while (rs.next()) {
                byte[] key = rs.getBytes(1);
                byte[][] entry = d.entry(Json.parse(rs.getString(2), Json.DEPTH_CEILING));
                if (entry == null) continue;
                if (d.spec().unique()) checkUnique(coll, d, entry);
                insertEntry(d, entry, key);
            }
        }
        return ApplyResult.applied(index, true, List.of());
    }

    private ApplyResult dropIndex(long index, Command.DropIndex di) throws SQLException {
        Validation.name("collection", di.collection());
        Validation.name("index", di.name());
        CollectionDef coll = catalog.get(di.collection());
        if (coll == null) throw collectionNotFound(di.collection());
        IndexDef d = coll.index(di.name());
        if (d == null) {
            throw new CairnException(ErrorCode.NOT_FOUND, "No index " + Json.quoteShort(di.name())
                    + " on collection " + Json.quoteShort(di.collection()) + ".");
        }
        stmts.clear();
        Db.exec(conn, "DROP TABLE " + d.table());
        PreparedStatement ps = stmts.get("DELETE FROM indexes WHERE collection = ? AND name = ?");
        ps.setString(1, coll.name());
        ps.setString(2, d.name());
        ps.executeUpdate();
        catalogChanged(index, catalog.with(index, coll.withoutIndex(d.name())));
        return ApplyResult.applied(index, false, List.of());
    }

    // ---- end of batch ------------------------------------------------------------------------

    /**
     * Drops whole revisions from the old end of the history while it holds more than
     * {@code historyRetain} changes or their time is older than {@code historyRetainMillis} before
     * the newest command time seen. Both rules drop a prefix, so trimming once per batch leaves the
     * same history as trimming after every entry: batching never changes the state.
     */
    private void trimHistory() throws SQLException {
        if (historyCount > o.historyRetain()) {
            PreparedStatement ps = stmts.get("SELECT rev FROM history ORDER BY id LIMIT 1 OFFSET ?");
            ps.setLong(1, historyCount - o.historyRetain() - 1);
            long rev;
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) throw new IllegalStateException("history count " + historyCount + " is wrong");
                rev = rs.getLong(1);
            }
            deleteHistoryThrough(rev);
        }
        if (historyCount == 0) oldestHistoryMillis = -1;
        long cutoff = clockMillis - o.historyRetainMillis();
        if (o.historyRetainMillis() > 0 && historyCount > 0 && (oldestHistoryMillis < 0 || oldestHistoryMillis < cutoff)) {
            long last = -1;
            PreparedStatement ps = stmts.get("SELECT rev, time_millis FROM history ORDER BY id");
            oldestHistoryMillis = -1;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getLong(2) >= cutoff) {
                        oldestHistoryMillis = rs.getLong(2);
                        break;
                    }
                    last = rs.getLong(1);
                }
            }
            if (last >= 0) deleteHistoryThrough(last);
        }
    }

    private void deleteHistoryThrough(long rev) throws SQLException {
        PreparedStatement ps = stmts.get("DELETE FROM history WHERE id <= ?");
        ps.setLong(1, (rev << 16) | 0xFFFF);
        historyCount -= ps.executeUpdate();
        historyFloor = Math.max(historyFloor, rev);
        oldestHistoryMillis = -1;
    }

    private void flushCounts() throws SQLException {
        if (dirtyCounts.isEmpty()) return;
        PreparedStatement ps = stmts.get("UPDATE collections SET doc_count = ? WHERE id = ?");
        for (Long id : dirtyCounts) {
            Long n = counts.get(id);
            if (n == null) continue;
            ps.setLong(1, n);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
        dirtyCounts.clear();
    }

    private void writeMeta() throws SQLException {
        PreparedStatement ps = stmts.get("UPDATE meta SET applied_index = ?, applied_term = ?, clock_millis = ?,"
                + " catalog_version = ?, next_id = ?, history_count = ?, history_floor = ? WHERE id = 1");
        ps.setLong(1, appliedIndex);
        ps.setLong(2, appliedTerm);
        ps.setLong(3, clockMillis);
        ps.setLong(4, catalogVersion);
        ps.setLong(5, nextId);
        ps.setLong(6, historyCount);
        ps.setLong(7, historyFloor);
        ps.executeUpdate();
    }

    @Override
    public void close() {
        try {
            conn.rollback();
        } catch (SQLException ignored) {
            // closing anyway
        }
        stmts.close();
    }
}
