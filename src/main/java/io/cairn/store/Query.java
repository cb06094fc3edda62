package io.cairn.store;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An index query (API.md "Queries"). Bounds are lists of JSON scalars, compared on their length
 * as a prefix of the index fields: on an index over {@code (city, age)}, {@code gte ["Paris"]} and
 * {@code lte ["Paris"]} include every {@code ("Paris", ...)}, {@code gt}/{@code lt} exclude them
 * all, {@code eq ["Paris"]} matches them all. At most one of {@code eq}, ({@code gt} or
 * {@code gte}) and ({@code lt} or {@code lte}) families may be used: {@code eq} excludes the
 * range bounds, and {@code gt}/{@code gte} (likewise {@code lt}/{@code lte}) exclude each other.
 * No bound at all walks the whole index.
 *
 * @param index  index name
 * @param eq     equality on a prefix of the fields, or null
 * @param gt     exclusive lower bound, or null
 * @param gte    inclusive lower bound, or null
 * @param lt     exclusive upper bound, or null
 * @param lte    inclusive upper bound, or null
 * @param desc   descending order of (values, key)
 * @param limit  page size, 1..{@link StoreOptions#pageLimitMax()}; 0 means the default (100)
 * @param after  the {@code next} cursor of an earlier page of the same query, or null
 * @param count  answer only the number of matches (limit and after are ignored)
 */
public record Query(String index, List<Object> eq, List<Object> gt, List<Object> gte, List<Object> lt,
                    List<Object> lte, boolean desc, int limit, String after, boolean count) {

    public Query {
        eq = copy(eq);
        gt = copy(gt);
        gte = copy(gte);
        lt = copy(lt);
        lte = copy(lte);
    }

    private static List<Object> copy(List<Object> l) {
        return l == null ? null : Collections.unmodifiableList(new ArrayList<>(l));
    }

    /** Every document in the index, in index order. */
    public static Query all(String index) {
        return new Query(index, null, null, null, null, null, false, 0, null, false);
    }

    public static Query eq(String index, Object... values) {
        return all(index).withEq(List.of(values));
    }

    public Query withEq(List<Object> v) {
        return new Query(index, v, gt, gte, lt, lte, desc, limit, after, count);
    }

    public Query withGt(List<Object> v) {
        return new Query(index, eq, v, gte, lt, lte, desc, limit, after, count);
    }

    public Query withGte(List<Object> v) {
        return new Query(index, eq, gt, v, lt, lte, desc, limit, after, count);
    }

    public Query withLt(List<Object> v) {
        return new Query(index, eq, gt, gte, v, lte, desc, limit, after, count);
    }

    public Query withLte(List<Object> v) {
        return new Query(index, eq, gt, gte, lt, v, desc, limit, after, count);
    }

    public Query withDesc(boolean v) {
        return new Query(index, eq, gt, gte, lt, lte, v, limit, after, count);
    }

    public Query withLimit(int v) {
        return new Query(index, eq, gt, gte, lt, lte, desc, v, after, count);
    }

    public Query withAfter(String v) {
        return new Query(index, eq, gt, gte, lt, lte, desc, limit, v, count);
    }

    public Query withCount(boolean v) {
        return new Query(index, eq, gt, gte, lt, lte, desc, limit, after, v);
    }

    /**
     * Parses the API body {@code {"index", "eq" | "range": {"gt","gte","lt","lte"}, "order",
     * "limit", "after", "count"}}. A bare scalar stands for a one-element array.
     *
     * @throws CairnException {@code invalid_json} for bad JSON, {@code invalid_query} for a bad shape
     */
    @SuppressWarnings("unchecked")
    public static Query parse(String json) {
        Object v = Json.parse(json, 16);
        if (!(v instanceof Map)) throw invalid("A query must be a JSON object.");
        Map<String, Object> m = (Map<String, Object>) v;
        Query q = all(null);
        String index = null;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            Object val = e.getValue();
            switch (e.getKey()) {
                case "index":
                    if (!(val instanceof String s)) throw invalid("\"index\" must be a string.");
                    index = s;
                    break;
                case "eq":
                    q = q.withEq(bound("eq", val));
                    break;
                case "range": {
                    if (!(val instanceof Map)) throw invalid("\"range\" must be an object with gt, gte, lt or lte.");
                    for (Map.Entry<String, Object> r : ((Map<String, Object>) val).entrySet()) {
                        List<Object> b = bound(r.getKey(), r.getValue());
                        switch (r.getKey()) {
                            case "gt": q = q.withGt(b); break;
                            case "gte": q = q.withGte(b); break;
                            case "lt": q = q.withLt(b); break;
                            case "lte": q = q.withLte(b); break;
                            default: throw invalid("Unknown range bound " + Json.quoteShort(r.getKey()) + "; use gt, gte, lt or lte.");
                        }
                    }
                    break;
                }
                case "order":
                    if ("asc".equals(val)) {
                        q = q.withDesc(false);
                    } else if ("desc".equals(val)) {
                        q = q.withDesc(true);
                    } else {
                        throw invalid("\"order\" must be \"asc\" or \"desc\".");
                    }
                    break;
                case "limit":
                    if (!(val instanceof Long l) || l < 1 || l > Integer.MAX_VALUE) throw invalid("\"limit\" must be a positive integer.");
                    q = q.withLimit((int) (long) l);
                    break;
                case "after":
                    if (val != null && !(val instanceof String)) throw invalid("\"after\" must be the \"next\" string of an earlier page.");
                    q = q.withAfter((String) val);
                    break;
                case "count":
                    if (!(val instanceof Boolean b)) throw invalid("\"count\" must be true or false.");
                    q = q.withCount(b);
                    break;
                default:
                    throw invalid("Unknown query member " + Json.quoteShort(e.getKey()) + ".");
            }
        }
        if (index == null) throw invalid("A query needs \"index\".");
        return new Query(index, q.eq, q.gt, q.gte, q.lt, q.lte, q.desc, q.limit, q.after, q.count);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> bound(String name, Object val) {
        if (val instanceof List) return (List<Object>) val;
        if (val instanceof Map) throw invalid("\"" + name + "\" must be an array of values or a single scalar.");
        List<Object> one = new ArrayList<>(1);
        one.add(val);
        return one;
    }

    static CairnException invalid(String message) {
        return new CairnException(ErrorCode.INVALID_QUERY, message);
    }
}
