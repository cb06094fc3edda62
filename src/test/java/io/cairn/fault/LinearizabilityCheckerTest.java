package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.fault.KvInput.Delete;
import io.cairn.fault.KvInput.Put;
import io.cairn.fault.KvInput.Read;
import io.cairn.fault.KvInput.Txn;
import io.cairn.fault.KvInput.TxnCheck;
import io.cairn.fault.KvInput.TxnDelete;
import io.cairn.fault.KvInput.TxnPut;
import io.cairn.fault.KvOutput.PreconditionFailed;
import io.cairn.fault.KvOutput.Written;
import io.cairn.fault.LinearizabilityChecker.Limits;
import io.cairn.fault.LinearizabilityChecker.Result;
import io.cairn.fault.LinearizabilityChecker.Verdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
    private static final KvModel MODEL = new KvModel();

    private static Result check(KvHistory h) {
        return LinearizabilityChecker.check(MODEL, h.ops());
    }

    private static void assertOk(KvHistory h) {
        Result r = check(h);
        assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.OK);
    }

    private static Result assertIllegal(KvHistory h) {
        Result r = check(h);
        assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.ILLEGAL);
        return r;
    }

    // ---- linearizable histories

    @Test
    void emptyHistoryIsLinearizable() {
        assertOk(new KvHistory());
    }

    @Test
    void sequentialReadsWritesAndDeletes() {
        assertOk(new KvHistory()
                .readMissing(1, 0, 1, "k", 0)
                .put(1, 2, 3, "k", "a", 5)
                .read(2, 4, 5, "k", "a", 5, 6)
                .cas(1, 6, 7, "k", "b", 5, 9)
                .casFailed(2, 8, 9, "k", "c", 5)
                .delete(1, 10, 11, "k", 12)
                .readMissing(2, 12, 13, "k", 12)
                .add(1, 14, 15, new Delete("k", null), new KvOutput.NotFound(13))
                .add(2, 16, 17, Put.ifAbsent("k", "d"), new Written(14)));
    }

    @Test
    void concurrentWritesMayTakeEffectInEitherOrder() {
        // w1 and w2 overlap, and so does the read: it may see the one whose rev is the later.
        assertOk(new KvHistory()
                .put(1, 0, 10, "k", "v1", 3)
                .put(2, 5, 15, "k", "v2", 2)
                .read(3, 12, 20, "k", "v1", 3, 3)
                .read(3, 21, 22, "k", "v1", 3, 4));
    }

    @Test
    void aReadOverlappingAWriteMaySeeEitherValue() {
        assertOk(new KvHistory()
                .put(1, 0, 1, "k", "old", 1)
                .put(1, 2, 10, "k", "new", 2)
                .read(2, 3, 4, "k", "old", 1, 1)
                .read(3, 5, 6, "k", "new", 2, 2)
                .read(2, 7, 8, "k", "new", 2, 2));
    }

    @Test
    void anUnknownWriteExplainsALaterRead() {
        KvHistory h = new KvHistory()
                .put(1, 0, 1, "k", "a", 1)
                .unknown(2, 2, Put.plain("k", "b"))
                .read(3, 5, 6, "k", "b", 4, 4);
        assertOk(h);
        // and the same read without the write that might have happened is a violation
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "a", 1)
                .failed(2, 2, 3, Put.plain("k", "b"))
                .read(3, 5, 6, "k", "b", 4, 4));
    }

    @Test
    void anUnknownWriteMayNeverHaveHappened() {
        assertOk(new KvHistory()
                .put(1, 0, 1, "k", "a", 1)
                .unknown(2, 2, Put.plain("k", "b"))
                .read(3, 5, 6, "k", "a", 1, 7)
                .unknown(2, 8, Put.ifMatch("k", "c", 1))
                .unknown(2, 9, new Delete("k", null))
                .read(3, 10, 11, "k", "a", 1, 9));
    }

    @Test
    void anUnknownCompareAndSetExplainsA412() {
        assertOk(new KvHistory()
                .put(1, 0, 1, "k", "a", 1)
                .unknown(2, 2, Put.ifMatch("k", "b", 1))
                .casFailed(1, 5, 6, "k", "c", 1)
                .read(3, 7, 8, "k", "b", 3, 3));
    }

    @Test
    void aReadLearnsTheRevOfAnUnknownWriteAndACasMayUseIt() {
        assertOk(new KvHistory()
                .unknown(1, 0, Put.plain("k", "a"))
                .read(2, 5, 6, "k", "a", 7, 7)
                .cas(2, 8, 9, "k", "b", 7, 10));
        assertIllegal(new KvHistory()
                .unknown(1, 0, Put.plain("k", "a"))
                .read(2, 5, 6, "k", "a", 7, 7)
                .cas(2, 8, 9, "k", "b", 6, 10));
    }

    @Test
    void aTransactionIsSeenWhole() {
        assertOk(new KvHistory()
                .txn(1, 0, 1, new Written(5), new TxnPut("a", "x", null), new TxnPut("b", "y", null))
                .read(2, 2, 3, "a", "x", 5, 5)
                .read(2, 4, 5, "b", "y", 5, 5)
                .txn(1, 6, 7, new PreconditionFailed(1), new TxnPut("a", "x2", 5L), new TxnCheck("b", 0))
                .txn(1, 8, 9, new Written(8), new TxnDelete("a", 5L), new TxnCheck("b", 5))
                .readMissing(2, 10, 11, "a", 8));
    }

    @Test
    void answersWithoutRevisionsAreCheckedOnValuesOnly() {
        // 0 = the answer carried no rev (a contract break the workload reports on its own)
        assertOk(new KvHistory()
                .put(1, 0, 1, "k", "a", 0)
                .read(2, 2, 3, "k", "a", 0, 0)
                .put(1, 4, 5, "k", "b", 7)
                .read(2, 6, 7, "k", "b", 7, 7));
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "a", 0)
                .put(1, 2, 3, "k", "b", 0)
                .read(2, 4, 5, "k", "a", 0, 0));
    }

    @Test
    void manyConcurrentClientsOnSeveralKeysAreCheckedQuickly() {
        // 4 keys x 500 ops, up to 6 overlapping at a time: per-key partitions keep the search small
        KvHistory h = new KvHistory();
        Map<String, Long> revs = new HashMap<>();
        long rev = 0;
        Random random = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            String key = "k" + (i % 4);
            long point = 10L * i + 5;
            long invoke = point - random.nextInt(30);
            long ret = point + random.nextInt(30);
            if (random.nextBoolean()) {
                rev++;
                revs.put(key, rev);
                h.put(i % 6, invoke, ret, key, "v" + i, rev);
            } else if (revs.containsKey(key)) {
                h.read(i % 6, invoke, ret, key, "v" + valueIndex(h, key), revs.get(key), rev);
            } else {
                h.readMissing(i % 6, invoke, ret, key, rev);
            }
        }
        long start = System.nanoTime();
        assertOk(h);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    private static int valueIndex(KvHistory h, String key) {
        List<Operation<KvInput, KvOutput>> ops = h.ops();
        for (int i = ops.size() - 1; i >= 0; i--) {
            if (ops.get(i).input() instanceof Put p && p.key().equals(key)) return ops.get(i).id();
        }
        throw new IllegalStateException();
    }

    // ---- violations

    @Test
    void aStaleReadIsReported() {
        Result r = assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v1", 1)
                .put(1, 2, 3, "k", "v2", 2)
                .read(2, 4, 5, "k", "v1", 1, 2)
                .put(3, 0, 1, "other", "x", 3));
        assertThat(r.partitions()).extracting(LinearizabilityChecker.PartitionResult::verdict)
                .containsExactlyInAnyOrder(Verdict.ILLEGAL, Verdict.OK);
        String report = r.report();
        assertThat(report).contains("keys {k}: NOT linearizable", "longest linearizable prefix: 2 ops",
                "stuck: #2 client 2", "read k -> \"v1\"@1", "impossible from this state");
    }

    @Test
    void aLostAcknowledgedWriteIsReported() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v1", 4)
                .readMissing(2, 2, 3, "k", 5));
    }

    @Test
    void aReadOfAValueWrittenOnlyLaterIsReported() {
        assertIllegal(new KvHistory()
                .read(2, 0, 1, "k", "v1", 4, 4)
                .put(1, 2, 3, "k", "v1", 4));
    }

    @Test
    void twoCompareAndSetsFromTheSameRevCannotBothSucceed() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v0", 1)
                .cas(2, 2, 5, "k", "a", 1, 2)
                .cas(3, 3, 6, "k", "b", 1, 3));
    }

    @Test
    void aCompareAndSetThatShouldHaveSucceededIsReported() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v0", 1)
                .casFailed(2, 2, 3, "k", "a", 1));
    }

    @Test
    void aCompareAndSetOnAStaleRevThatSucceedsIsReported() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v0", 1)
                .put(1, 2, 3, "k", "v1", 2)
                .cas(2, 4, 5, "k", "a", 1, 3));
    }

    @Test
    void revisionsThatContradictTheOnlyValueOrderAreReported() {
        // by values alone v2 then v1 explains the read, but the revs say v1 committed first
        KvHistory h = new KvHistory()
                .put(1, 0, 10, "k", "v1", 2)
                .put(2, 5, 15, "k", "v2", 3)
                .read(3, 16, 20, "k", "v1", 2, 3);
        assertIllegal(h);
        assertThat(LinearizabilityChecker.check(new KvModel(false), h.ops()).verdict()).isEqualTo(Verdict.OK);
    }

    @Test
    void aReadMustAnswerTheRevOfTheWriteItSees() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v1", 2)
                .read(2, 2, 3, "k", "v1", 3, 3));
    }

    @Test
    void theAppliedRevisionOfReadsNeverGoesBack() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "v1", 2)
                .read(2, 2, 3, "k", "v1", 2, 10)
                .read(3, 4, 5, "k", "v1", 2, 8));
    }

    @Test
    void aWriteAfterAReadMustCommitAboveTheReadsRevision() {
        assertIllegal(new KvHistory()
                .readMissing(1, 0, 1, "k", 10)
                .put(2, 2, 3, "k", "v1", 9));
    }

    @Test
    void anUnknownWriteSeenByAReadMustHaveARevAboveEverythingBeforeIt() {
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "a", 5)
                .unknown(2, 2, Put.plain("k", "b"))
                .read(3, 3, 4, "k", "b", 3, 6));
    }

    @Test
    void halfATransactionIsAViolation() {
        Result r = assertIllegal(new KvHistory()
                .put(1, 0, 1, "b", "old", 1)
                .txn(1, 2, 3, new Written(5), new TxnPut("a", "x", null), new TxnPut("b", "y", null))
                .read(2, 4, 5, "a", "x", 5, 5)
                .read(2, 6, 7, "b", "old", 1, 5));
        assertThat(r.partitions()).hasSize(1);
        assertThat(r.report()).contains("keys {a,b}");
    }

    @Test
    void aTransactionFailedOnAConditionThatHeldIsAViolation() {
        assertIllegal(new KvHistory()
                .txn(1, 0, 1, new PreconditionFailed(0), new TxnCheck("a", 0), new TxnPut("b", "y", null)));
        assertIllegal(new KvHistory()
                .txn(1, 0, 1, new PreconditionFailed(1), new TxnCheck("a", 0), new TxnPut("b", "y", null)));
    }

    @Test
    void aTransactionDeletingAMissingDocumentIsA404AtThatOp() {
        assertIllegal(new KvHistory()
                .txn(1, 0, 1, new Written(5), new TxnPut("a", "x", null), new TxnDelete("b", null)));
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "b", "old", 1)
                .txn(1, 2, 3, new KvOutput.TxnNotFound(1), new TxnPut("a", "x", null), new TxnDelete("b", null)));
        assertIllegal(new KvHistory() // op 0 fails first
                .txn(1, 0, 1, new KvOutput.TxnNotFound(1), new TxnCheck("a", 7), new TxnDelete("b", null)));
        assertOk(new KvHistory()
                .txn(1, 0, 1, new KvOutput.TxnNotFound(1), new TxnPut("a", "x", null), new TxnDelete("b", null))
                .readMissing(2, 2, 3, "a", 4));
    }

    @Test
    void deletingAMissingDocumentSucceedsNowhere() {
        assertIllegal(new KvHistory().delete(1, 0, 1, "k", 3));
        assertIllegal(new KvHistory()
                .put(1, 0, 1, "k", "a", 1)
                .add(2, 2, 3, new Delete("k", null), new KvOutput.NotFound(2)));
    }

    @Test
    void aSearchOverItsStateLimitReportsUnknown() {
        // many concurrent unknown writes and reads: a big search, cut short
        KvHistory h = new KvHistory();
        for (int i = 0; i < 12; i++) h.unknown(i, i, Put.plain("k", "u" + i));
        for (int i = 0; i < 12; i++) h.read(20 + i, 100 + 2 * i, 101 + 2 * i, "k", "u" + (11 - i), 100 + i, 100 + i);
        h.readMissing(40, 200, 201, "k", 300);
        Result r = LinearizabilityChecker.check(MODEL, h.ops(), new Limits(200, Duration.ofSeconds(10), 5));
        assertThat(r.verdict()).as(r.report()).isEqualTo(Verdict.UNKNOWN);
        assertThat(r.report()).contains("more than 200 states");
    }

    // ---- property: any sequential execution, seen through overlapping intervals, is linearizable

    @Property(tries = 200)
    void sequentialExecutionsWithRandomOverlapsAreLinearizable(@ForAll long seed) {
        List<Operation<KvInput, KvOutput>> history = ReferenceKv.randomHistory(new Random(seed), 60);
        Result r = LinearizabilityChecker.check(MODEL, history);
        assertThat(r.verdict()).as("seed %d\n%s", seed, r.report()).isEqualTo(Verdict.OK);
    }

    // ---- property: on small histories, the search agrees with trying every order

    @Property(tries = 400)
    void onSmallHistoriesTheVerdictMatchesABruteForceSearch(@ForAll long seed) {
        Random random = new Random(seed);
        List<Operation<KvInput, KvOutput>> history = new ArrayList<>(ReferenceKv.randomHistory(random, 7));
        if (random.nextBoolean()) { // make it (probably) wrong: one answer replaced by a plausible other
            int i = random.nextInt(history.size());
            Operation<KvInput, KvOutput> op = history.get(i);
            KvOutput other = switch (random.nextInt(4)) {
                case 0 -> new KvOutput.Found("v" + random.nextInt(history.size()), random.nextInt(8), random.nextInt(8));
                case 1 -> new KvOutput.NotFound(random.nextInt(8));
                case 2 -> new Written(1 + random.nextInt(8));
                default -> new PreconditionFailed(-1);
            };
            history.set(i, new Operation<>(op.id(), op.clientId(), op.invokeNanos(), op.returnNanos(), op.input(), other, Outcome.OK));
        }
        boolean expected = bruteForce(MODEL, history);
        Result r = LinearizabilityChecker.check(MODEL, history);
        assertThat(r.verdict()).as("seed %d\n%s", seed, r.report()).isEqualTo(expected ? Verdict.OK : Verdict.ILLEGAL);
    }

    /** Tries every order that respects real time (unknown outcomes return at +infinity). */
    private static boolean bruteForce(KvModel model, List<Operation<KvInput, KvOutput>> history) {
        List<Operation<KvInput, KvOutput>> ops = new ArrayList<>();
        for (Operation<KvInput, KvOutput> op : history) {
            boolean drop = op.outcome() == Outcome.FAILED || (op.outcome() == Outcome.UNKNOWN && model.isReadOnly(op.input()));
            if (!drop) ops.add(op);
        }
        return search(model, ops, new boolean[ops.size()], ops.size(), java.util.Set.of(model.init()));
    }

    private static boolean search(KvModel model, List<Operation<KvInput, KvOutput>> ops, boolean[] used, int left,
                                  java.util.Set<KvModel.State> states) {
        if (left == 0) return true;
        for (int i = 0; i < ops.size(); i++) {
            if (used[i]) continue;
            Operation<KvInput, KvOutput> o = ops.get(i);
            boolean mayGoNext = true;
            for (int j = 0; j < ops.size(); j++) {
                if (!used[j] && j != i && ops.get(j).effectiveReturnNanos() < o.invokeNanos()) mayGoNext = false;
            }
            if (!mayGoNext) continue;
            java.util.Set<KvModel.State> next = new java.util.HashSet<>();
            for (KvModel.State s : states) next.addAll(model.step(s, o.input(), o.output()));
            if (next.isEmpty()) continue;
            used[i] = true;
            boolean ok = search(model, ops, used, left - 1, next);
            used[i] = false;
            if (ok) return true;
        }
        return false;
    }

    /** A plain sequential KV store with Raft-like revisions, to generate histories that are linearizable by construction. */
    static final class ReferenceKv {
        private record Doc(String value, long rev) {}

        private final Map<String, Doc> docs = new HashMap<>();
        private final Random random;
        private long rev;

        private ReferenceKv(Random random) {
            this.random = random;
        }

        static List<Operation<KvInput, KvOutput>> randomHistory(Random random, int maxOps) {
            ReferenceKv kv = new ReferenceKv(random);
            List<Operation<KvInput, KvOutput>> ops = new ArrayList<>();
            int n = 1 + random.nextInt(maxOps);
            for (int i = 0; i < n; i++) {
                long point = 10L * i + 5;
                long invoke = point - random.nextInt(30);
                long ret = point + random.nextInt(30);
                KvInput input = kv.randomInput(i);
                int roll = random.nextInt(100);
                if (roll < 5) {
                    ops.add(new Operation<>(i, i % 5, invoke, ret, input, new Written(999_999), Outcome.FAILED));
                } else if (roll < 15) {
                    if (random.nextBoolean()) kv.apply(input); // it happened, but the client never knew
                    ops.add(new Operation<>(i, i % 5, invoke, ret, input, KvOutput.UNKNOWN, Outcome.UNKNOWN));
                } else {
                    ops.add(new Operation<>(i, i % 5, invoke, ret, input, kv.apply(input), Outcome.OK));
                }
            }
            return ops;
        }

        private String key() {
            return "k" + random.nextInt(4);
        }

        private Long someRev(String key) {
            Doc d = docs.get(key);
            int roll = random.nextInt(10);
            if (roll < 6 && d != null) return d.rev();
            if (roll < 8) return 0L;
            return (long) random.nextInt((int) rev + 2);
        }

        private KvInput randomInput(int i) {
            String key = key();
            String value = "v" + i;
            int roll = random.nextInt(100);
            if (roll < 35) return new Read(key);
            if (roll < 55) return Put.plain(key, value);
            if (roll < 68) {
                long ifMatch = someRev(key);
                return ifMatch == 0 ? Put.ifAbsent(key, value) : Put.ifMatch(key, value, ifMatch);
            }
            if (roll < 80) return new Delete(key, random.nextInt(3) == 0 ? someRev(key) : null);
            List<String> keys = new ArrayList<>(List.of("k0", "k1", "k2", "k3"));
            java.util.Collections.shuffle(keys, random);
            List<KvInput.TxnOp> txnOps = new ArrayList<>();
            for (String k : keys.subList(0, 1 + random.nextInt(3))) {
                int kind = random.nextInt(3);
                Long cond = random.nextBoolean() ? someRev(k) : null;
                if (kind == 0) txnOps.add(new TxnPut(k, value + k, cond));
                else if (kind == 1) txnOps.add(new TxnDelete(k, cond));
                else txnOps.add(new TxnCheck(k, someRev(k)));
            }
            return new Txn(txnOps);
        }

        /** Applies the input at the next log index(es) and answers what Cairn would. */
        private KvOutput apply(KvInput input) {
            if (random.nextInt(5) == 0) rev += 1 + random.nextInt(3); // entries for other collections, no-ops
            if (input instanceof Read r) {
                Doc d = docs.get(r.key());
                long readRev = random.nextInt(5) == 0 ? 0 : rev;
                return d == null ? new KvOutput.NotFound(readRev) : new KvOutput.Found(d.value(), d.rev(), readRev);
            }
            if (input instanceof Put p) {
                Doc d = docs.get(p.key());
                boolean holds = p.ifMatch() != null ? d != null && d.rev() == p.ifMatch() : !p.ifAbsent() || d == null;
                rev++; // a conditional write that fails still uses a log index (checked at apply)
                if (!holds) return new PreconditionFailed(-1);
                docs.put(p.key(), new Doc(p.value(), rev));
                return new Written(rev);
            }
            if (input instanceof Delete del) {
                Doc d = docs.get(del.key());
                if (d == null) return new KvOutput.NotFound(rev);
                if (del.ifRev() != null && d.rev() != del.ifRev()) return new PreconditionFailed(-1);
                docs.remove(del.key());
                return new Written(++rev);
            }
            Txn t = (Txn) input;
            rev++;
            for (int i = 0; i < t.ops().size(); i++) {
                KvInput.TxnOp op = t.ops().get(i);
                Doc d = docs.get(op.key());
                Long expected = op instanceof TxnPut p ? p.ifRev() : op instanceof TxnDelete del ? del.ifRev() : (Long) ((TxnCheck) op).rev();
                boolean holds = expected == null || (expected == 0 ? d == null : d != null && d.rev() == expected);
                if (!holds) return new PreconditionFailed(i);
                if (op instanceof TxnDelete && d == null) return new KvOutput.TxnNotFound(i); // Cairn: 404, failedOp
            }
            for (KvInput.TxnOp op : t.ops()) {
                if (op instanceof TxnPut p) docs.put(p.key(), new Doc(p.value(), rev));
                else if (op instanceof TxnDelete) docs.remove(op.key());
            }
            return new Written(rev);
        }
    }
}
