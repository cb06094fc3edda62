package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Hostile names, keys and values: clear errors or faithful storage, never a crash, store intact. */
class HostileInputTest {
    private final StoreFixture f = new StoreFixture();
    private String before;

    @BeforeEach
    void seed() {
        f.apply(new Command.CreateCollection("users", List.of(IndexSpec.of("by_age", false, "age"),
                IndexSpec.of("by_email", true, "email")), 0));
        f.put("users", "ann", "{\"age\":30,\"email\":\"ann@x\"}");
        before = content();
    }

    @AfterEach
    void intact() {
        if (before != null) {
            // Documents, indexes and history are as seeded plus whatever a test stored on purpose.
            assertThat(content()).startsWith(before.substring(0, before.indexOf("change ")));
        }
        f.close();
    }

    /** The dump without the meta line (which moves with every rejected entry's applied index). */
    private String content() {
        String d = f.store.dump();
        return d.substring(d.indexOf('\n') + 1);
    }

    private static void expectCode(ErrorCode code, Executable e) {
        assertThatThrownBy(e::execute).isInstanceOfSatisfying(CairnException.class, ex -> {
            assertThat(ex.code()).as(ex.getMessage()).isEqualTo(code);
            assertThat(ex.getMessage()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
        });
    }

    private ErrorCode rejected(ApplyResult r) {
        assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.REJECTED);
        assertThat(r.error().getMessage()).isNotBlank();
        return r.error().code();
    }

    static final List<String> BAD_NAMES = List.of("", "a\"b", "a;b", "../x", "a/b", "a\u0000", "\u0000", "1abc", "_a",
            "a b", "Robert'); DROP TABLE meta;--", "a".repeat(65), "\u00e4", "a.b", "a\uD800");

    @Test
    void badNamesAreInvalidNameEverywhere() {
        for (String n : BAD_NAMES) {
            expectCode(ErrorCode.INVALID_NAME, () -> Validation.normalize(new Command.DropCollection(n, 0), f.options));
            assertThat(rejected(f.apply(new Command.CreateCollection(n, List.of(), 0)))).isEqualTo(ErrorCode.INVALID_NAME);
            assertThat(rejected(f.put(n, "k", "{}"))).isEqualTo(ErrorCode.INVALID_NAME);
            assertThat(rejected(f.apply(new Command.CreateIndex("users", IndexSpec.of(n, false, "age"), 0))))
                    .isEqualTo(ErrorCode.INVALID_NAME);
            assertThat(rejected(f.apply(new Command.DropIndex("users", n, 0)))).isEqualTo(ErrorCode.INVALID_NAME);
            expectCode(ErrorCode.INVALID_NAME, () -> f.store.get(n, "k"));
            expectCode(ErrorCode.INVALID_NAME, () -> f.store.list(n, null, null, 0));
            expectCode(ErrorCode.INVALID_NAME, () -> f.store.query(n, Query.all("by_age")));
            expectCode(ErrorCode.INVALID_NAME, () -> f.store.query("users", Query.all(n)));
            expectCode(ErrorCode.INVALID_NAME, () -> f.store.getCollection(n));
            expectCode(ErrorCode.INVALID_NAME, () -> f.store.changes(0, 10, n, null));
        }
    }

    @Test
    void namesOfInternalTablesAreJustNames() {
        for (String n : List.of("meta", "history", "collections", "indexes", "sqlite_master", "c_1", "i_2", "C_1")) {
            assertThat(f.put(n, "k", "{\"n\":\"" + n + "\"}").ok()).isTrue();
            assertThat(f.store.get(n, "k").value().json()).isEqualTo("{\"n\":\"" + n + "\"}");
        }
        // Names differ by case only: two collections (SQLite identifiers would not tell them apart).
        f.put("Users", "ann", "{\"other\":true}");
        assertThat(f.store.get("users", "ann").value().json()).contains("ann@x");
        assertThat(f.store.get("Users", "ann").value().json()).isEqualTo("{\"other\":true}");
        before = null;
    }

    @Test
    void hostileKeysAreStoredFaithfully() {
        List<String> keys = List.of("'", "\"", "a;b", "'; DROP TABLE c_1; --", "../../etc/passwd", "a\u0000b", "\u0000",
                "%2F", "\uD83D\uDE00", "\\", "x".repeat(512), "\u00e4".repeat(256));
        for (String k : keys) {
            assertThat(f.put("keys", k, "{\"k\":" + Json.write(k) + "}").ok()).as(k).isTrue();
        }
        for (String k : keys) {
            assertThat(f.store.get("keys", k).value().json()).isEqualTo("{\"k\":" + Json.write(k) + "}");
        }
        assertThat(StoreModelPropertyTest.walkList(f.store, "keys", null, 5)).hasSameSizeAs(keys);
        before = null;
    }

    @Test
    void badKeysAreInvalidKey() {
        for (String k : new String[] {"", "x".repeat(513), "\u00e4".repeat(257), "a\uD800", "\uDC00"}) {
            assertThat(rejected(f.put("users", k, "{}"))).isEqualTo(ErrorCode.INVALID_KEY);
            expectCode(ErrorCode.INVALID_KEY, () -> f.store.get("users", k));
            expectCode(ErrorCode.INVALID_KEY, () -> Validation.normalize(Command.Txn.of(0, new Op.Delete("users", k)), f.options));
        }
    }

    @Test
    void deepNestingIsAClearError() {
        String deep = "{\"a\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}";
        expectCode(ErrorCode.INVALID_JSON, () -> Validation.normalize(Command.Txn.of(0, new Op.Put("users", "d", deep)), f.options));
        ApplyResult r = f.put("users", "d", deep);
        assertThat(rejected(r)).isEqualTo(ErrorCode.INVALID_JSON);
        assertThat(r.error().getMessage()).contains("deeper than 64");
        assertThat(r.error().details()).containsEntry("failedOp", 0);
        // Exactly at the limit is fine.
        String ok = "[".repeat(63) + "]".repeat(63);
        assertThat(f.put("users", "ok", "{\"a\":" + ok + "}").ok()).isTrue();
        // A patch cannot deepen it beyond the limit either.
        String deeperPatch = "{\"b\":" + "{\"c\":".repeat(64) + "1" + "}".repeat(64) + "}";
        assertThat(rejected(f.txn(new Op.Patch("users", "ok", deeperPatch)))).isEqualTo(ErrorCode.INVALID_JSON);
        before = null;
    }

    @Test
    void hugeNumbersAreStoredFaithfullyAndOrdered() {
        f.apply(new Command.CreateIndex("nums", IndexSpec.of("by_n", false, "n"), 0));
        String[] inputs = {"1e400", "123456789012345678901234567890", "-1e400", "1E-400", "-0", "0.10", "1e999999999", "9223372036854775808"};
        for (int i = 0; i < inputs.length; i++) {
            Command c = Validation.normalize(Command.Txn.of(0, new Op.Put("nums", "k" + i, "{\"n\":" + inputs[i] + "}")), f.options);
            assertThat(f.apply(c).ok()).isTrue();
        }
        assertThat(f.store.get("nums", "k0").value().json()).isEqualTo("{\"n\":1E+400}");
        assertThat(f.store.get("nums", "k1").value().json()).isEqualTo("{\"n\":123456789012345678901234567890}");
        assertThat(f.store.get("nums", "k4").value().json()).isEqualTo("{\"n\":0}");
        assertThat(f.store.get("nums", "k5").value().json()).isEqualTo("{\"n\":0.10}");
        assertThat(f.store.get("nums", "k7").value().json()).isEqualTo("{\"n\":9223372036854775808}");
        // Stored text parses back to the same value.
        assertThat(Json.parse(f.store.get("nums", "k0").value().json(), 4)).isEqualTo(Map.of("n", new java.math.BigDecimal("1E+400")));
        List<String> order = new ArrayList<>();
        for (Document d : f.store.query("nums", Query.all("by_n")).value().docs()) order.add(d.key());
        assertThat(order).containsExactly("k2", "k4", "k3", "k5", "k7", "k1", "k0", "k6");
        assertThat(f.store.query("nums", Query.eq("by_n", new java.math.BigDecimal("1e400"))).value().docs())
                .extracting(Document::key).containsExactly("k0");
        before = null;
    }

    @Test
    void malformedJsonIsInvalidJson() {
        String[] bad = {"", "{", "{\"a\":1,}", "{\"a\":1} x", "{a:1}", "{\"a\":NaN}", "{\"a\":1,\"a\":2}",
                "{\"a\":\"\\ud800\"}", "{\"\\udc00\":1}", "{\"a\":01}", "/* c */{}", "{\"a\":1" + "0".repeat(2000) + "}",
                "{\"a\":1e99999999999}", "{\"a\":'x'}", "{\"a\":\"\u0001\"}"};
        for (String b : bad) {
            expectCode(ErrorCode.INVALID_JSON, () -> Validation.document(b, f.options));
            assertThat(rejected(f.put("users", "bad", b))).as(b).isEqualTo(ErrorCode.INVALID_JSON);
        }
        expectCode(ErrorCode.INVALID_JSON, () -> Json.parse(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'}, 8));
        for (String notObject : new String[] {"[]", "1", "\"s\"", "null", "true"}) {
            expectCode(ErrorCode.BAD_REQUEST, () -> Validation.document(notObject, f.options));
            assertThat(rejected(f.put("users", "bad", notObject))).isEqualTo(ErrorCode.BAD_REQUEST);
            assertThat(rejected(f.txn(new Op.Patch("users", "ann", notObject)))).isEqualTo(ErrorCode.BAD_REQUEST);
        }
    }

    @Test
    void nulAndControlCharactersInStringsAreKept() {
        String doc = "{\"s\":\"a\\u0000b\\n\\u001f\",\"\\u0000\":1}";
        Command c = Validation.normalize(Command.Txn.of(0, new Op.Put("users", "nul", doc)), f.options);
        assertThat(f.apply(c).ok()).isTrue();
        Object back = Json.parse(f.store.get("users", "nul").value().json(), 4);
        assertThat(back).isEqualTo(Map.of("s", "a\u0000b\n\u001f", "\u0000", 1L));
        before = null;
    }

    @Test
    void sizeLimits() {
        String big = "{\"s\":\"" + "x".repeat(1 << 20) + "\"}";
        expectCode(ErrorCode.PAYLOAD_TOO_LARGE, () -> Validation.document(big, f.options));
        assertThat(rejected(f.put("users", "big", big))).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
        // A patch that grows a document past the limit.
        String half = "{\"s\":\"" + "x".repeat(600_000) + "\"}";
        assertThat(f.put("users", "half", half).ok()).isTrue();
        assertThat(rejected(f.txn(new Op.Patch("users", "half", "{\"t\":\"" + "y".repeat(600_000) + "\"}"))))
                .isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
        // Too many ops, too many bytes in one transaction.
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i <= f.options.txnOpsMax(); i++) ops.add(new Op.Check("users", "k" + i, 0));
        assertThat(rejected(f.apply(new Command.Txn(ops, 0)))).isEqualTo(ErrorCode.BAD_REQUEST);
        List<Op> fat = new ArrayList<>();
        for (int i = 0; i < 9; i++) fat.add(new Op.Put("users", "f" + i, "{\"s\":\"" + "x".repeat(1_000_000) + "\"}"));
        ApplyResult r = f.apply(new Command.Txn(fat, 0));
        assertThat(rejected(r)).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
        assertThat(r.error().details()).containsEntry("failedOp", 8);
        assertThat(rejected(f.apply(new Command.Txn(List.of(), 0)))).isEqualTo(ErrorCode.BAD_REQUEST);
        before = null;
    }

    @Test
    void badIndexDefinitions() {
        List<IndexSpec> bad = List.of(new IndexSpec("i", List.of(), false), new IndexSpec("i", List.of("a", "a"), false),
                new IndexSpec("i", List.of("a..b"), false), new IndexSpec("i", List.of(".a"), false),
                new IndexSpec("i", List.of(""), false), new IndexSpec("i", List.of("x".repeat(257)), false),
                new IndexSpec("i", List.of("a", "b", "c", "d", "e", "f", "g", "h", "i"), false));
        for (IndexSpec s : bad) {
            assertThat(rejected(f.apply(new Command.CreateIndex("users", s, 0)))).as(s.toString()).isEqualTo(ErrorCode.BAD_REQUEST);
        }
        assertThat(rejected(f.apply(new Command.CreateIndex("users", IndexSpec.of("by_age", true, "age"), 0))))
                .isEqualTo(ErrorCode.CONFLICT);
        f.put("users", "bob", "{\"age\":30}");
        ApplyResult r = f.apply(new Command.CreateIndex("users", IndexSpec.of("uniq_age", true, "age"), 0));
        assertThat(rejected(r)).isEqualTo(ErrorCode.UNIQUE_VIOLATION);
        assertThat(r.error().details()).containsEntry("index", "uniq_age");
        assertThat(f.store.listIndexes("users").value()).extracting(IndexSpec::name).containsExactly("by_age", "by_email");
        before = null;
    }

    @Test
    void hostileQueries() {
        expectCode(ErrorCode.NOT_FOUND, () -> f.store.query("users", Query.all("nope")));
        expectCode(ErrorCode.NOT_FOUND, () -> f.store.query("nope", Query.all("by_age")));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withAfter("garbage!")));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withAfter("")));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withAfter("AQ")));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withLimit(-1)));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withLimit(10_001)));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.eq("by_age", 1L, 2L)));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withEq(List.of())));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.eq("by_age", List.of(1L))));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.eq("by_age", 1L).withGt(List.of(1L))));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withGt(List.of(1L)).withGte(List.of(1L))));
        f.put("users", "bob", "{\"age\":31,\"email\":\"bob@x\"}");
        String cursor = f.store.query("users", Query.all("by_age").withLimit(1)).value().next();
        assertThat(cursor).isNotNull();
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_email").withAfter(cursor)));
        expectCode(ErrorCode.INVALID_QUERY, () -> f.store.query("users", Query.all("by_age").withDesc(true).withAfter(cursor)));
        expectCode(ErrorCode.INVALID_QUERY, () -> Query.parse("{\"index\":\"by_age\",\"eq\":{\"a\":1}}"));
        expectCode(ErrorCode.INVALID_QUERY, () -> Query.parse("{\"index\":\"by_age\",\"drop\":true}"));
        expectCode(ErrorCode.INVALID_QUERY, () -> Query.parse("{\"index\":\"by_age\",\"limit\":1.5}"));
        expectCode(ErrorCode.INVALID_QUERY, () -> Query.parse("{\"eq\":[1]}"));
        expectCode(ErrorCode.INVALID_JSON, () -> Query.parse("{\"index\":"));
        expectCode(ErrorCode.BAD_REQUEST, () -> f.store.list("users", null, null, -5));
        expectCode(ErrorCode.INVALID_KEY, () -> f.store.list("users", "x".repeat(513), null, 1));
        expectCode(ErrorCode.BAD_REQUEST, () -> f.store.changes(-1, 10, null, null));
        Query parsed = Query.parse("{\"index\":\"by_age\",\"range\":{\"gte\":30,\"lt\":[40]},\"order\":\"desc\",\"limit\":5}");
        assertThat(f.store.query("users", parsed).value().docs()).extracting(Document::key).containsExactly("bob", "ann");
        before = null;
    }
}
