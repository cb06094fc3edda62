package io.cairn.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Immutable view of the catalog: collections and their indexes, as of {@link #version} (the
 * revision of the last catalog change). SQL table names come from internal numeric ids
 * ({@code c_17}, {@code i_18}), never from client names: SQLite identifiers are case-insensitive,
 * API names are not, and numbers need no quoting.
 */
final class Catalog {
    record IndexDef(long id, IndexSpec spec, String[][] paths, String insertSql, String deleteSql, String uniqueSql) {
        static IndexDef of(long id, IndexSpec spec) {
            String[][] paths = new String[spec.fields().size()][];
            for (int i = 0; i < paths.length; i++) paths[i] = spec.fields().get(i).split("\\.", -1);
            String table = "i_" + id;
            StringBuilder cols = new StringBuilder();
            StringBuilder marks = new StringBuilder();
            StringBuilder eq = new StringBuilder();
            for (int i = 0; i < paths.length; i++) {
                cols.append('v').append(i).append(", ");
                marks.append("?, ");
                eq.append(i == 0 ? "" : " AND ").append('v').append(i).append(" = ?");
            }
            return new IndexDef(id, spec, paths,
                    "INSERT INTO " + table + " (" + cols + "key) VALUES (" + marks + "?)",
                    "DELETE FROM " + table + " WHERE " + eq + " AND key = ?",
                    "SELECT key FROM " + table + " WHERE " + eq + " LIMIT 1");
        }

        String table() {
            return "i_" + id;
        }

        String name() {
            return spec.name();
        }

        int width() {
            return paths.length;
        }

        /** Value keys of {@code doc} for this index, or null if some field is absent or not a scalar. */
        byte[][] entry(Object doc) {
            byte[][] out = new byte[paths.length][];
            for (int i = 0; i < paths.length; i++) {
                byte[] k = ValueKey.encode(Json.at(doc, paths[i]));
                if (k == null) return null;
                out[i] = k;
            }
            return out;
        }
    }

    /**
     * A collection. {@code paths} lists the field paths of all its indexes one after the other
     * (index {@code i} owns {@code paths[offsets[i] .. offsets[i] + width)}), the input of
     * {@link Json#scan}.
     */
    record CollectionDef(long id, String name, long createdRev, List<IndexDef> indexes, String[][] paths, int[] offsets) {
        CollectionDef(long id, String name, long createdRev, List<IndexDef> indexes) {
            this(id, name, createdRev, sorted(indexes), null, null);
        }

        CollectionDef {
            indexes = sorted(indexes);
            if (paths == null) {
                offsets = new int[indexes.size()];
                List<String[]> all = new ArrayList<>();
                for (int i = 0; i < indexes.size(); i++) {
                    offsets[i] = all.size();
                    all.addAll(java.util.Arrays.asList(indexes.get(i).paths()));
                }
                paths = all.toArray(new String[0][]);
            }
        }

        private static List<IndexDef> sorted(List<IndexDef> indexes) {
            List<IndexDef> sorted = new ArrayList<>(indexes);
            sorted.sort((a, b) -> a.name().compareTo(b.name()));
            return Collections.unmodifiableList(sorted);
        }

        /** Value keys of index {@code i} from values scanned along {@link #paths}, or null if not indexed. */
        byte[][] entry(int i, Object[] scanned) {
            int w = indexes.get(i).width();
            byte[][] out = new byte[w][];
            for (int f = 0; f < w; f++) {
                byte[] k = ValueKey.encode(scanned[offsets[i] + f]);
                if (k == null) return null;
                out[f] = k;
            }
            return out;
        }

        String table() {
            return "c_" + id;
        }

        IndexDef index(String name) {
            for (IndexDef d : indexes) {
                if (d.name().equals(name)) return d;
            }
            return null;
        }

        List<IndexSpec> specs() {
            List<IndexSpec> out = new ArrayList<>(indexes.size());
            for (IndexDef d : indexes) out.add(d.spec());
            return out;
        }

        CollectionDef withIndex(IndexDef d) {
            List<IndexDef> l = new ArrayList<>(indexes);
            l.add(d);
            return new CollectionDef(id, name, createdRev, l);
        }

        CollectionDef withoutIndex(String indexName) {
            List<IndexDef> l = new ArrayList<>(indexes);
            l.removeIf(d -> d.name().equals(indexName));
            return new CollectionDef(id, name, createdRev, l);
        }
    }

    static final Catalog EMPTY = new Catalog(0, new TreeMap<>());

    final long version;
    private final TreeMap<String, CollectionDef> byName;

    private Catalog(long version, TreeMap<String, CollectionDef> byName) {
        this.version = version;
        this.byName = byName;
    }

    CollectionDef get(String name) {
        return byName.get(name);
    }

    int size() {
        return byName.size();
    }

    /** Collections in name order. */
    List<CollectionDef> all() {
        return new ArrayList<>(byName.values());
    }

    Catalog with(long version, CollectionDef c) {
        TreeMap<String, CollectionDef> m = new TreeMap<>(byName);
        m.put(c.name(), c);
        return new Catalog(version, m);
    }

    Catalog without(long version, String name) {
        TreeMap<String, CollectionDef> m = new TreeMap<>(byName);
        m.remove(name);
        return new Catalog(version, m);
    }

    /** Reads the catalog tables inside the caller's transaction. */
    static Catalog load(Connection c, long version) throws SQLException {
        Map<String, List<IndexDef>> idx = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT collection, name, id, fields, is_unique FROM indexes");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<String> fields = new ArrayList<>();
                for (Object f : (List<?>) Json.parse(rs.getString(4), 4)) fields.add((String) f);
                IndexSpec spec = new IndexSpec(rs.getString(2), fields, rs.getInt(5) != 0);
                idx.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(IndexDef.of(rs.getLong(3), spec));
            }
        }
        TreeMap<String, CollectionDef> m = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT name, id, created_rev FROM collections");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String name = rs.getString(1);
                m.put(name, new CollectionDef(rs.getLong(2), name, rs.getLong(3), idx.getOrDefault(name, List.of())));
            }
        }
        return new Catalog(version, m);
    }
}
