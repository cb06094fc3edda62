package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.fault.StreamChecker.Acknowledged;
import io.cairn.fault.StreamChecker.Change;
import io.cairn.fault.StreamChecker.Committed;
import io.cairn.fault.StreamChecker.End;
import io.cairn.fault.StreamChecker.Filter;
import io.cairn.fault.StreamChecker.Progress;
import io.cairn.fault.StreamChecker.Received;
import io.cairn.fault.StreamChecker.Report;
import io.cairn.fault.StreamChecker.Session;
import io.cairn.fault.StreamChecker.Subscriber;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamCheckerTest {
    /** rev 2 put c/a, rev 3 put c/b, rev 5 txn (put c/a, delete c/b), rev 6 put d/x, rev 8 put c/a. */
    private static final List<Committed> HISTORY = List.of(
            new Committed(2, 0, "c", "a", "put"),
            new Committed(3, 0, "c", "b", "put"),
            new Committed(5, 0, "c", "a", "put"),
            new Committed(5, 1, "c", "b", "delete"),
            new Committed(6, 0, "d", "x", "put"),
            new Committed(8, 0, "c", "a", "put"));

    private static Change ch(Committed c) {
        return new Change(c.rev(), c.collection(), c.key(), c.op());
    }

    private static List<Received> frames(int... indexes) {
        List<Received> out = new ArrayList<>();
        for (int i : indexes) out.add(ch(HISTORY.get(i)));
        return out;
    }

    private static Report one(Filter filter, Session... sessions) {
        return StreamChecker.check(HISTORY, List.of(new Subscriber("s1", filter, List.of(sessions))));
    }

    private static void assertOk(Report r) {
        assertThat(r.violations()).as(r.text()).isEmpty();
    }

    private static void assertViolation(Report r, String... fragments) {
        assertThat(r.ok()).as(r.text()).isFalse();
        assertThat(r.text()).contains(fragments);
    }

    @Test
    void aCompleteStreamWithProgressFramesIsFine() {
        List<Received> got = frames(0, 1, 2, 3);
        got.add(new Progress(5));
        got.addAll(frames(4, 5));
        got.add(new Progress(9));
        assertOk(StreamChecker.check(HISTORY, List.of(new Subscriber("s", Filter.ALL, List.of(new Session(0L, got, End.CLOSED)))), 9));
    }

    @Test
    void aGapIsReported() {
        assertViolation(one(Filter.ALL, new Session(0L, frames(0, 2, 3), End.OPEN)), "gap: missing [rev 3.0 put c/b]");
    }

    @Test
    void aDuplicateInsideASessionIsReported() {
        assertViolation(one(Filter.ALL, new Session(0L, frames(0, 1, 1), End.OPEN)), "duplicate: rev 3 put c/b (already delivered)");
    }

    @Test
    void aResumedStreamMustNotRepeatWhatItsAfterCovers() {
        assertViolation(one(Filter.ALL,
                        new Session(0L, frames(0, 1), End.DISCONNECTED),
                        new Session(3L, frames(1, 2, 3), End.OPEN)),
                "session 1 frame 0: duplicate: rev 3 put c/b (at or before after=3)");
    }

    @Test
    void resumingFromTheLastCompleteRevMissesNothing() {
        // the connection broke inside rev 5; the client resumes after 3, the last rev it had whole
        assertOk(one(Filter.ALL,
                new Session(0L, frames(0, 1, 2), End.DISCONNECTED),
                new Session(3L, frames(2, 3, 4), End.DISCONNECTED),
                new Session(6L, frames(5), End.CLOSED)));
    }

    @Test
    void resumingPastAnIncompleteRevIsReported() {
        assertViolation(one(Filter.ALL,
                        new Session(0L, frames(0, 1, 2), End.DISCONNECTED),
                        new Session(5L, frames(4, 5), End.CLOSED)),
                "resumed with after=5 but earlier sessions were complete only up to rev 4", "rev 5.1 delete c/b");
    }

    @Test
    void afterACompactedErrorTheClientMayResumeAnywhere() {
        assertOk(one(Filter.ALL,
                new Session(0L, frames(0), End.COMPACTED),
                new Session(5L, frames(4, 5), End.CLOSED)));
    }

    @Test
    void aTransactionMustArriveWholeAndInOpOrder() {
        assertViolation(one(Filter.ALL, new Session(0L, frames(0, 1, 3, 2), End.OPEN)),
                "rev 5 not delivered whole and in op order: missing [rev 5.0 put c/a]");
    }

    @Test
    void revsOutOfOrderAreReported() {
        assertViolation(one(Filter.ALL, new Session(0L, frames(1, 0), End.OPEN)), "out of order: rev 2 put c/a after rev 3");
    }

    @Test
    void collectionAndKeyFiltersAreEnforced() {
        assertOk(one(new Filter("c", null), new Session(0L, frames(0, 1, 2, 3, 5), End.OPEN)));
        assertOk(one(new Filter("c", "a"), new Session(0L, frames(0, 2, 5), End.OPEN)));
        assertViolation(one(new Filter("c", null), new Session(0L, frames(0, 1, 2, 3, 4, 5), End.OPEN)),
                "outside the filter c: rev 6 put d/x");
        assertViolation(one(new Filter("c", "a"), new Session(0L, frames(0, 1), End.OPEN)), "outside the filter c/a: rev 3 put c/b");
    }

    @Test
    void aChangeThatWasNeverCommittedIsReported() {
        List<Received> got = frames(0);
        got.add(new Change(4, "c", "zzz", "put"));
        assertViolation(one(Filter.ALL, new Session(0L, got, End.OPEN)), "not a committed change: rev 4 put c/zzz");
    }

    @Test
    void progressMustNotPassUndeliveredChanges() {
        List<Received> got = frames(0);
        got.add(new Progress(4));
        assertViolation(one(Filter.ALL, new Session(0L, got, End.OPEN)), "progress 4 before delivering [rev 3.0 put c/b]");
        List<Received> late = frames(0, 1);
        late.add(new Progress(5));
        late.add(ch(HISTORY.get(2)));
        assertViolation(one(Filter.ALL, new Session(0L, late, End.OPEN)), "arrives after progress 5");
    }

    @Test
    void aFromNowStreamStartsAtARevBoundary() {
        assertOk(one(Filter.ALL, new Session(null, frames(2, 3, 4), End.OPEN)));
        List<Received> afterProgress = new ArrayList<>(List.of(new Progress(4)));
        afterProgress.addAll(frames(2, 3));
        assertOk(one(Filter.ALL, new Session(null, afterProgress, End.OPEN)));
        assertViolation(one(Filter.ALL, new Session(null, frames(3, 4), End.OPEN)), "a from-now stream starts inside rev 5");
    }

    @Test
    void aSubscriberMustCatchUpWhenAskedTo() {
        Report r = StreamChecker.check(HISTORY,
                List.of(new Subscriber("s", new Filter("c", null), List.of(new Session(0L, frames(0, 1, 2, 3), End.OPEN)))), 8);
        assertViolation(r, "never received everything up to rev 8; missing [rev 8.0 put c/a]");
    }

    @Test
    void theCommittedHistoryItselfIsValidated() {
        assertThat(StreamChecker.checkCommitted(HISTORY)).isEmpty();
        assertThat(StreamChecker.checkCommitted(List.of(new Committed(3, 0, "c", "a", "put"), new Committed(2, 0, "c", "b", "put"))))
                .singleElement().asString().contains("goes back");
        assertThat(StreamChecker.checkCommitted(List.of(new Committed(3, 0, "c", "a", "put"), new Committed(3, 2, "c", "b", "put"))))
                .singleElement().asString().contains("should have seq 1");
    }

    @Test
    void everyAcknowledgedWriteIsInTheCommittedHistory() {
        assertThat(StreamChecker.checkAcknowledged(HISTORY, List.of(
                new Acknowledged(5, "c", "b", "delete"), new Acknowledged(8, "c", "a", "put")))).isEmpty();
        assertThat(StreamChecker.checkAcknowledged(HISTORY, List.of(new Acknowledged(7, "c", "a", "put"))))
                .singleElement().asString().contains("acknowledged write lost: put c/a at rev 7");
    }
}
