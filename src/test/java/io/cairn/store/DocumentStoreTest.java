package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DocumentStoreTest {
    private final StoreFixture f = new StoreFixture();

    @AfterEach
    void close() {
        f.close();
    }

    private static ErrorCode code(ApplyResult r) {
        assertThat(r.outcome()).isEqualTo(ApplyResult.Outcome.REJECTED);
        return r.error().code();
    }

    @Test
    void putGetReplaceDelete() {
        ApplyResult r = f.put("users", "ann", "{\"name\":\"Ann\",\"age\":30}");
        assertThat(r.ok()).isTrue();
        assertThat(r.ops()).containsExactly(new ApplyResult.OpResult("ann", 1, true));
        Versioned<Document> d = f.store.get("users", "ann");
        assertThat(d.value()).isEqualTo(new Document("ann", 1, "{\"name\":\"Ann\",\"age\":30}"));
        assertThat(d.appliedRev()).isEqualTo(1);

        r = f.put("users", "ann", "{\"name\":\"Ann\",\"age\":31}");
        assertThat(r.ops()).containsExactly(new ApplyResult.OpResult("ann", 2, false));
        assertThat(f.store.get("users", "ann").value().rev()).isEqualTo(2);

        r = f.txn(new Op.Delete("users", "ann"));
        assertThat(r.ok()).isTrue();
        assertThatThrownBy(() -> f.store.get("users", "ann")).isInstanceOf(CairnException.class)
                .extracting(e -> ((CairnException) e).code()).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(f.store.find("users", "ann").value()).isNull();
        assertThat(f.store.find("users", "ann").appliedRev()).isEqualTo(3);
        assertThat(code(f.txn(new Op.Delete("users", "ann")))).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(f.store.appliedIndex()).isEqualTo(4);
    }

    @Test
    void preconditionsAndChecks() {
        f.put("c", "k", "{}");
        assertThat(code(f.txn(new Op.Put("c", "k", "{\"a\":1}", 0L)))).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(code(f.txn(new Op.Put("c", "k", "{\"a\":1}", 7L)))).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(f.txn(new Op.Put("c", "k", "{\"a\":1}", 1L)).ok()).isTrue();
        assertThat(code(f.txn(new Op.Patch("c", "zz", "{}", 3L)))).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(code(f.txn(new Op.Patch("c", "zz", "{}")))).isEqualTo(ErrorCode.NOT_FOUND);
        ApplyResult r = f.txn(new Op.Check("c", "k", 4), new Op.Put("c", "k2", "{}"), new Op.Check("c", "nope", 1));
        assertThat(code(r)).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThat(r.error().details()).containsEntry("failedOp", 2);
        assertThat(f.store.find("c", "k2").value()).isNull();
        r = f.txn(new Op.Check("c", "k", 4), new Op.Put("c", "k2", "{}"), new Op.Check("c", "nope", 0));
        assertThat(r.ok()).isTrue();
        assertThat(r.ops()).extracting(ApplyResult.OpResult::rev).containsExactly(4L, 8L, 0L);
    }

    @Test
    void insertConflictsAndImplicitCollectionRollsBack() {
        assertThat(f.txn(new Op.Insert("c", "k", "{}")).ok()).isTrue();
        assertThat(code(f.txn(new Op.Insert("c", "k", "{}")))).isEqualTo(ErrorCode.CONFLICT);
        ApplyResult r = f.txn(new Op.Put("fresh", "a", "{}"), new Op.Check("fresh", "b", 5));
        assertThat(code(r)).isEqualTo(ErrorCode.PRECONDITION_FAILED);
        assertThatThrownBy(() -> f.store.getCollection("fresh")).isInstanceOf(CairnException.class);
        assertThat(f.store.listCollections().value()).extracting(CollectionInfo::name).containsExactly("c");
    }

    @Test
    void mergePatch() {
        f.put("c", "k", "{\"a\":1,\"b\":{\"x\":1,\"y\":2},\"c\":[1]}");
        assertThat(f.txn(new Op.Patch("c", "k", "{\"a\":null,\"b\":{\"y\":null,\"z\":3},\"d\":true}")).ok()).isTrue();
        assertThat(f.store.get("c", "k").value().json()).isEqualTo("{\"b\":{\"x\":1,\"z\":3},\"c\":[1],\"d\":true}");
    }

    @Test
    void indexesQueryAndUnique() {
        assertThat(f.apply(new Command.CreateCollection("u", List.of(IndexSpec.of("by_age", false, "age"),
                IndexSpec.of("by_email", true, "email")), 0)).created()).isTrue();
        assertThat(f.apply(new Command.CreateCollection("u", List.of(IndexSpec.of("by_age", false, "age")), 0)).created()).isFalse();
        assertThat(code(f.apply(new Command.CreateCollection("u", List.of(IndexSpec.of("by_age", true, "age")), 0))))
                .isEqualTo(ErrorCode.CONFLICT);
        f.put("u", "a", "{\"age\":30,\"email\":\"a@x\"}");
        f.put("u", "b", "{\"age\":25.5,\"email\":\"b@x\"}");
        f.put("u", "c", "{\"age\":40}");
        f.put("u", "d", "{\"email\":\"d@x\"}");
        assertThat(code(f.put("u", "e", "{\"email\":\"a@x\"}"))).isEqualTo(ErrorCode.UNIQUE_VIOLATION);
        assertThat(f.put("u", "a", "{\"age\":31,\"email\":\"a@x\"}").ok()).isTrue();
        DocPage p = f.store.query("u", Query.all("by_age").withGte(List.of(26)).withLt(List.of(100))).value();
        assertThat(p.docs()).extracting(Document::key).containsExactly("a", "c");
        p = f.store.query("u", Query.all("by_age").withDesc(true).withLimit(2)).value();
        assertThat(p.docs()).extracting(Document::key).containsExactly("c", "a");
        assertThat(p.next()).isNotNull();
        p = f.store.query("u", Query.all("by_age").withDesc(true).withLimit(2).withAfter(p.next())).value();
        assertThat(p.docs()).extracting(Document::key).containsExactly("b");
        assertThat(p.next()).isNull();
        assertThat(f.store.query("u", Query.eq("by_email", "d@x").withCount(true)).value().count()).isEqualTo(1);
        assertThat(f.store.getCollection("u").value().count()).isEqualTo(4);
    }

    @Test
    void changesAndReopen() {
        f.put("c", "a", "{\"v\":1}");
        f.txn(new Op.Put("c", "b", "{}"), new Op.Delete("c", "a"));
        f.apply(new Command.DropCollection("c", 0));
        ChangePage p = f.store.changes(0, 100, null, null).value();
        assertThat(p.changes()).extracting(c -> c.rev() + ":" + c.seq() + ":" + c.op() + ":" + c.key())
                .containsExactly("1:0:put:a", "2:0:put:b", "2:1:delete:a", "3:0:drop:null");
        assertThat(p.resumeRev()).isEqualTo(3);
        String before = f.store.dump();
        f.reopen();
        assertThat(f.store.dump()).isEqualTo(before);
        assertThat(f.store.appliedIndex()).isEqualTo(3);
        assertThat(f.apply(Command.Noop.INSTANCE).ok()).isTrue();
        assertThat(f.store.apply(2, 1, Command.Noop.INSTANCE).outcome()).isEqualTo(ApplyResult.Outcome.SKIPPED);
    }
}
