package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** {@link Json#scan} accepts exactly what parse-then-must-be-an-object accepts, and finds the same values. */
class JsonScanTest {
    static final String[][] PATHS = {{"a"}, {"b"}, {"a", "b"}, {"a", "b", "c"}, {"x", "y"}, {"\u00e4"}, {"a", "a"}};
    static final String[] NAMES = {"a", "b", "c", "x", "y", "\u00e4"};
    static final String[] SCALARS = {"null", "true", "false", "0", "-1", "1.50", "1e400", "123456789012345678901234567890",
            "\"s\"", "\"\\u0000\"", "\"\\ud83d\\ude00\"", "-0"};
    /** Rare poison: each makes the whole text invalid. */
    static final String[] BAD_SCALARS = {"\"\\ud800\"", "1e99999999999", "\"\\udc00x\"", "01"};

    static String randomJson(Random r, int depth) {
        int k = depth == 0 && r.nextInt(5) > 0 ? 3 : r.nextInt(depth > 4 ? 2 : 4);
        if (k == 0 || k == 1) {
            return r.nextInt(40) == 0 ? BAD_SCALARS[r.nextInt(BAD_SCALARS.length)] : SCALARS[r.nextInt(SCALARS.length)];
        }
        StringBuilder b = new StringBuilder();
        int n = r.nextInt(depth == 0 ? 6 : 4);
        if (k == 2) {
            b.append('[');
            for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ",").append(randomJson(r, depth + 1));
            return b.append(']').toString();
        }
        b.append('{');
        for (int i = 0; i < n; i++) {
            String name = r.nextInt(60) == 0 ? "\\ud800" : NAMES[r.nextInt(NAMES.length)];
            b.append(i == 0 ? "" : ",").append('"').append(name).append("\":").append(randomJson(r, depth + 1));
        }
        return b.append('}').toString();
    }

    static String mutate(String s, Random r) {
        StringBuilder b = new StringBuilder(s);
        int n = r.nextInt(3);
        for (int i = 0; i < n && b.length() > 0; i++) {
            int at = r.nextInt(b.length());
            switch (r.nextInt(3)) {
                case 0 -> b.deleteCharAt(at);
                case 1 -> b.insert(at, "{}[],:\" 1e".charAt(r.nextInt(10)));
                default -> b.setCharAt(at, "{}[],:\"x".charAt(r.nextInt(8)));
            }
        }
        return b.toString();
    }

    static String outcome(Runnable r) {
        try {
            r.run();
            return "ok";
        } catch (CairnException e) {
            return e.code().code();
        }
    }

    @Property(tries = 3000)
    void scanAgreesWithParse(@ForAll long seed) {
        Random r = new Random(seed);
        String text = r.nextInt(4) == 0 ? mutate(randomJson(r, 0), r) : randomJson(r, 0);
        int depthMax = 2 + r.nextInt(4);
        Object[] tree = new Object[1];
        Object[][] scanned = new Object[1][];
        String parsed = outcome(() -> {
            Object v = Json.parse(text, depthMax);
            if (!(v instanceof Map)) throw new CairnException(ErrorCode.BAD_REQUEST, "not an object");
            tree[0] = v;
        });
        String scan = outcome(() -> scanned[0] = Json.scan(text, depthMax, PATHS));
        net.jqwik.api.statistics.Statistics.collect(parsed);
        assertThat(scan).as(text).isEqualTo(parsed);
        if (parsed.equals("ok")) {
            for (int i = 0; i < PATHS.length; i++) {
                Object expect = Json.at(tree[0], PATHS[i]);
                if (expect instanceof Map || expect instanceof List) expect = Json.NOT_SCALAR;
                assertThat(scanned[0][i]).as(text + " at " + String.join(".", PATHS[i])).isEqualTo(expect);
            }
        }
    }

    @Test
    void examples() {
        Object[] v = Json.scan("{\"a\":{\"b\":{\"c\":1},\"z\":[{\"b\":2}]},\"b\":\"s\",\"x\":[1]}", 8, PATHS);
        assertThat(v).containsExactly(Json.NOT_SCALAR, "s", Json.NOT_SCALAR, 1L, Json.MISSING, Json.MISSING, Json.MISSING);
        Map<String, Object> deep = new LinkedHashMap<>();
        Map<String, Object> cur = deep;
        for (int i = 0; i < 63; i++) {
            Map<String, Object> next = new LinkedHashMap<>();
            cur.put("a", next);
            cur = next;
        }
        String text = Json.write(deep);
        assertThat(Json.scan(text, 64, new String[0][])).isEmpty();
        assertThat(outcome(() -> Json.scan("{\"a\":" + text + "}", 64, new String[0][]))).isEqualTo("invalid_json");
        assertThat(outcome(() -> Json.scan("[1]", 64, PATHS))).isEqualTo("bad_request");
        assertThat(outcome(() -> Json.scan("{\"a\":1,\"a\":2}", 64, PATHS))).isEqualTo("invalid_json");
        assertThat(outcome(() -> Json.scan("{\"a\":{\"b\":1},\"c\":{\"b\":1}}", 64, PATHS))).isEqualTo("ok");
        List<String> keys = new ArrayList<>();
        for (String[] p : PATHS) keys.add(String.join(".", p));
        assertThat(keys).hasSize(PATHS.length);
    }
}
