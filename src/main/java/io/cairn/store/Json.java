package io.cairn.store;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON text to and from plain Java values, on jackson-core's streaming parser and generator.
 *
 * <p>The value model: {@code Map<String,Object>} (a {@link LinkedHashMap}, member order kept),
 * {@code List<Object>}, {@code String}, {@code Long} (integers that fit), {@code BigInteger}
 * (larger integers), {@code BigDecimal} (every number with a fraction or exponent, exact: {@code 1e400}
 * is kept, never turned into infinity), {@code Boolean} and {@code null}.
 *
 * <p>Strict: RFC 8259 only (no comments, no trailing content), duplicate member names, lone
 * surrogates and nesting deeper than the given limit are {@link ErrorCode#INVALID_JSON}. Pure and
 * thread-safe.
 */
public final class Json {
    /** Hard ceiling on any nesting limit a caller may ask for; keeps the recursive builder shallow. */
    public static final int DEPTH_CEILING = 512;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(DEPTH_CEILING + 1)
                    .maxNumberLength(1000)
                    .build())
            .build();

    private Json() {}

    /**
     * Parses one JSON value. {@code depthMax} (1..{@link #DEPTH_CEILING}) bounds the nesting of
     * objects and arrays: a top-level object is depth 1.
     *
     * @throws CairnException {@code invalid_json} with a message saying what is wrong
     */
    public static Object parse(String text, int depthMax) {
        if (text == null) throw new CairnException(ErrorCode.INVALID_JSON, "Expected a JSON value, got nothing.");
        checkDepthMax(depthMax);
        try (JsonParser p = FACTORY.createParser(text)) {
            return parseAll(p, depthMax);
        } catch (IOException | RuntimeException e) {
            throw asInvalid(e);
        }
    }

    /** As {@link #parse(String, int)}, from UTF-8 bytes (invalid UTF-8 is {@code invalid_json}). */
    public static Object parse(byte[] utf8, int depthMax) {
        if (utf8 == null) throw new CairnException(ErrorCode.INVALID_JSON, "Expected a JSON value, got nothing.");
        checkDepthMax(depthMax);
        try (JsonParser p = FACTORY.createParser(utf8)) {
            return parseAll(p, depthMax);
        } catch (IOException | RuntimeException e) {
            throw asInvalid(e);
        }
    }

    private static void checkDepthMax(int depthMax) {
        if (depthMax < 1 || depthMax > DEPTH_CEILING) {
            throw new IllegalArgumentException("depthMax must be in 1.." + DEPTH_CEILING + ": " + depthMax);
        }
    }

    private static CairnException asInvalid(Exception e) {
        if (e instanceof CairnException ce) return ce;
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = msg.indexOf('\n');
        if (nl >= 0) msg = msg.substring(0, nl);
        if (msg.length() > 200) msg = msg.substring(0, 200) + "...";
        return new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: " + msg);
    }

    private static Object parseAll(JsonParser p, int depthMax) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) throw new CairnException(ErrorCode.INVALID_JSON, "Expected a JSON value, got an empty body.");
        Object v = readValue(p, t, 0, depthMax);
        if (p.nextToken() != null) {
            throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: unexpected content after the value.");
        }
        return v;
    }

    private static Object readValue(JsonParser p, JsonToken t, int depth, int depthMax) throws IOException {
        switch (t) {
            case START_OBJECT: {
                if (depth >= depthMax) throw tooDeep(depthMax);
                Map<String, Object> m = new LinkedHashMap<>();
                JsonToken n;
                while ((n = p.nextToken()) != JsonToken.END_OBJECT) {
                    if (n != JsonToken.FIELD_NAME) throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON object.");
                    String name = p.currentName();
                    checkString(name);
                    Object v = readValue(p, p.nextToken(), depth + 1, depthMax);
                    if (m.containsKey(name)) {
                        throw new CairnException(ErrorCode.INVALID_JSON,
                                "Malformed JSON: duplicate member name " + quoteShort(name) + ".");
                    }
                    m.put(name, v);
                }
                return m;
            }
            case START_ARRAY: {
                if (depth >= depthMax) throw tooDeep(depthMax);
                List<Object> l = new ArrayList<>();
                JsonToken n;
                while ((n = p.nextToken()) != JsonToken.END_ARRAY) {
                    l.add(readValue(p, n, depth + 1, depthMax));
                }
                return l;
            }
            case VALUE_STRING: {
                String s = p.getText();
                checkString(s);
                return s;
            }
            case VALUE_NUMBER_INT:
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) return p.getBigIntegerValue();
                return p.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDecimalValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: unexpected " + t + ".");
        }
    }

    /** Marker of {@link #scan}: the value at the path is an object or array. */
    public static final Object NOT_SCALAR = new Object() {
        @Override
        public String toString() {
            return "NOT_SCALAR";
        }
    };

    /**
     * Checks a document exactly as {@code parse(text, depthMax)} followed by "must be an object"
     * does, without building it: only the values at {@code paths} (dotted paths split into
     * segments) are materialized. Returns, per path, the scalar there, {@link #MISSING}, or
     * {@link #NOT_SCALAR}. Allocates next to nothing for the rest of the document.
     *
     * @throws CairnException {@code invalid_json} as parse would; {@code bad_request} if the
     *         value is not an object
     */
    public static Object[] scan(String text, int depthMax, String[][] paths) {
        if (text == null) throw new CairnException(ErrorCode.INVALID_JSON, "Expected a JSON value, got nothing.");
        checkDepthMax(depthMax);
        Object[] out = new Object[paths.length];
        java.util.Arrays.fill(out, MISSING);
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) throw new CairnException(ErrorCode.INVALID_JSON, "Expected a JSON value, got an empty body.");
            if (t != JsonToken.START_OBJECT) {
                Object v = readValue(p, t, 0, depthMax);
                if (p.nextToken() != null) {
                    throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: unexpected content after the value.");
                }
                throw new CairnException(ErrorCode.BAD_REQUEST, "A document must be a JSON object, not " + Validation.kind(v) + ".");
            }
            scanObject(p, depthMax, paths, out);
            if (p.nextToken() != null) {
                throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: unexpected content after the value.");
            }
            return out;
        } catch (IOException | RuntimeException e) {
            throw asInvalid(e);
        }
    }

    /** Walks the members of the root object (its START_OBJECT already read), iteratively. */
    private static void scanObject(JsonParser p, int depthMax, String[][] paths, Object[] out) throws IOException {
        int cap = Math.min(depthMax, 7) + 1;
        String[] names = new String[cap];
        boolean[] objects = new boolean[cap];
        // objectPath[d]: frames 1..d are all objects, so a value at depth d has a dotted path.
        boolean[] objectPath = new boolean[cap];
        @SuppressWarnings({"unchecked", "rawtypes"})
        java.util.HashSet<String>[] seen = new java.util.HashSet[cap];
        int depth = 1;
        objects[1] = true;
        objectPath[0] = true;
        objectPath[1] = true;
        seen[1] = new java.util.HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) != null) {
            switch (t) {
                case FIELD_NAME: {
                    String name = p.currentName();
                    checkString(name);
                    if (!seen[depth].add(name)) {
                        throw new CairnException(ErrorCode.INVALID_JSON,
                                "Malformed JSON: duplicate member name " + quoteShort(name) + ".");
                    }
                    names[depth] = name;
                    break;
                }
                case START_OBJECT:
                case START_ARRAY: {
                    match(paths, out, names, objects, objectPath, depth, NOT_SCALAR);
                    if (depth >= depthMax) throw tooDeep(depthMax);
                    depth++;
                    if (depth == names.length) {
                        int n = Math.min(depthMax + 1, names.length * 2);
                        names = java.util.Arrays.copyOf(names, n);
                        objects = java.util.Arrays.copyOf(objects, n);
                        objectPath = java.util.Arrays.copyOf(objectPath, n);
                        seen = java.util.Arrays.copyOf(seen, n);
                    }
                    boolean obj = t == JsonToken.START_OBJECT;
                    objects[depth] = obj;
                    objectPath[depth] = obj && objectPath[depth - 1];
                    if (obj) {
                        if (seen[depth] == null) {
                            seen[depth] = new java.util.HashSet<>();
                        } else {
                            seen[depth].clear();
                        }
                    }
                    break;
                }
                case END_OBJECT:
                case END_ARRAY:
                    depth--;
                    if (depth == 0) return;
                    break;
                case VALUE_STRING: {
                    char[] buf = p.getTextCharacters();
                    int off = p.getTextOffset();
                    int len = p.getTextLength();
                    for (int i = off; i < off + len; i++) {
                        char c = buf[i];
                        if (Character.isSurrogate(c)) {
                            if (!Character.isHighSurrogate(c) || i + 1 >= off + len || !Character.isLowSurrogate(buf[i + 1])) {
                                checkString(p.getText());
                            }
                            i++;
                        }
                    }
                    if (wanted(paths, names, objectPath, depth)) match(paths, out, names, objects, objectPath, depth, p.getText());
                    break;
                }
                default:
                    if (wanted(paths, names, objectPath, depth)) {
                        match(paths, out, names, objects, objectPath, depth, readValue(p, t, depth, depthMax));
                    } else if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
                        // Same acceptance as parse: numbers are decoded (range checks) even when not kept.
                        readValue(p, t, depth, depthMax);
                    }
                    break;
            }
        }
        throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: unexpected end of input.");
    }

    /** Whether the member path at {@code depth} is one of {@code paths}: only such values are materialized. */
    private static boolean wanted(String[][] paths, String[] names, boolean[] objectPath, int depth) {
        if (!objectPath[depth]) return false;
        for (String[] path : paths) {
            if (path.length != depth) continue;
            boolean eq = true;
            for (int d = 0; d < depth && eq; d++) eq = path[d].equals(names[d + 1]);
            if (eq) return true;
        }
        return false;
    }

    /** Records {@code v} for every path equal to the member path at {@code depth}, if it is one. */
    private static void match(String[][] paths, Object[] out, String[] names, boolean[] objects, boolean[] objectPath,
                              int depth, Object v) {
        if (!objects[depth] || !objectPath[depth]) return;
        for (int i = 0; i < paths.length; i++) {
            String[] path = paths[i];
            if (path.length != depth) continue;
            boolean eq = true;
            for (int d = 0; d < depth && eq; d++) eq = path[d].equals(names[d + 1]);
            if (eq) out[i] = v;
        }
    }

    private static CairnException tooDeep(int depthMax) {
        return new CairnException(ErrorCode.INVALID_JSON,
                "JSON nests deeper than " + depthMax + " levels of objects and arrays.");
    }

    private static void checkString(String s) {
        if (!Validation.isWellFormed(s)) {
            throw new CairnException(ErrorCode.INVALID_JSON, "Malformed JSON: a string holds a lone surrogate (\\uD800-\\uDFFF).");
        }
    }

    static String quoteShort(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return write(cut);
    }

    /** Compact JSON text of a value of the model above (Integer and Double are accepted too). */
    public static String write(Object value) {
        StringWriter w = new StringWriter(128);
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            writeValue(g, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    @SuppressWarnings("unchecked")
    private static void writeValue(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                g.writeFieldName(e.getKey());
                writeValue(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof List<?> l) {
            g.writeStartArray();
            for (Object o : l) writeValue(g, o);
            g.writeEndArray();
        } else if (v instanceof Long n) {
            g.writeNumber(n);
        } else if (v instanceof Integer n) {
            g.writeNumber(n);
        } else if (v instanceof BigInteger n) {
            g.writeNumber(n);
        } else if (v instanceof BigDecimal n) {
            g.writeNumber(n);
        } else if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) throw new IllegalArgumentException("JSON has no NaN or infinity");
            g.writeNumber(BigDecimal.valueOf(d));
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else {
            throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    /**
     * RFC 7396 JSON merge patch: members of an object {@code patch} replace or (when null) remove
     * members of {@code target}, recursively; any other {@code patch} replaces the target. Neither
     * argument is modified; order of kept members is kept, new members go last.
     */
    @SuppressWarnings("unchecked")
    public static Object mergePatch(Object target, Object patch) {
        if (!(patch instanceof Map<?, ?> p)) return patch;
        Map<String, Object> result = target instanceof Map<?, ?> t
                ? new LinkedHashMap<>((Map<String, Object>) t) : new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : ((Map<String, Object>) p).entrySet()) {
            if (e.getValue() == null) {
                result.remove(e.getKey());
            } else {
                result.put(e.getKey(), mergePatch(result.get(e.getKey()), e.getValue()));
            }
        }
        return result;
    }

    /** Nesting depth of a value: 0 for a scalar, 1 for a flat object or array. */
    public static int depth(Object v) {
        int d = 0;
        if (v instanceof Map<?, ?> m) {
            for (Object o : m.values()) d = Math.max(d, depth(o));
            return d + 1;
        }
        if (v instanceof List<?> l) {
            for (Object o : l) d = Math.max(d, depth(o));
            return d + 1;
        }
        return 0;
    }

    /**
     * The value at a dotted path ({@code address.city} as {@code ["address","city"]}) inside nested
     * objects, or {@link #MISSING} when a step is absent or not an object.
     */
    public static Object at(Object doc, String[] path) {
        Object cur = doc;
        for (String seg : path) {
            if (!(cur instanceof Map<?, ?> m)) return MISSING;
            if (!m.containsKey(seg)) return MISSING;
            cur = m.get(seg);
        }
        return cur;
    }

    /** Marker for an absent value (distinct from JSON null). */
    public static final Object MISSING = new Object() {
        @Override
        public String toString() {
            return "MISSING";
        }
    };
}
