package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.fault.LinearizabilityChecker.Result;
import io.cairn.fault.LinearizabilityChecker.Verdict;
import io.cairn.fault.StreamChecker.Filter;
import io.cairn.fault.StreamChecker.Report;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The workload, recorder and subscribers against {@link FakeCairn}, with the checkers on what they recorded. */
class WorkloadTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private Vertx vertx;
    private FakeCairn fake;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        fake = FakeCairn.start(vertx).await(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        fake.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private Workload.Summary run(Workload w) throws Exception {
        try {
            return w.run().await(60, TimeUnit.SECONDS);
        } finally {
            w.close();
        }
    }

    @Test
    void aCorrectServerGivesALinearizableHistoryAndWholeStreamsDespiteUnknownsAndCutStreams() throws Exception {
        fake.unknownEvery = 9;
        fake.closeStreamEvery = 30;
        List<String> nodes = List.of(fake.address(), fake.address());
        Workload.Config config = Workload.Config.of(42, nodes).withClients(4).withOps(500, WAIT);
        HistoryRecorder recorder = new HistoryRecorder();
        Workload workload = new Workload(vertx, config, recorder);
        ChangeSubscriber all = new ChangeSubscriber(vertx, "all", nodes, Filter.ALL, 0L, 1);
        ChangeSubscriber oneKey = new ChangeSubscriber(vertx, "k1", nodes, new Filter(config.collection(), "k1"), 0L, 2);
        all.start().await(5, TimeUnit.SECONDS);
        oneKey.start().await(5, TimeUnit.SECONDS);

        Workload.Summary summary = run(workload);
        List<StreamChecker.Committed> committed = Workload.fetchCommitted(vertx, fake.address(), 0).await(10, TimeUnit.SECONDS);
        long lastRev = committed.get(committed.size() - 1).rev();
        Await.until("both subscribers complete up to rev " + lastRev, WAIT,
                () -> all.completeRev() >= lastRev && oneKey.completeRev() >= lastRev,
                () -> all.completeRev() + " / " + oneKey.completeRev());
        all.stop().await(5, TimeUnit.SECONDS);
        oneKey.stop().await(5, TimeUnit.SECONDS);

        assertThat(summary.ops()).isEqualTo(500);
        assertThat(summary.unexpected()).as("%s", summary.unexpectedSamples()).isZero();
        assertThat(summary.outcomes().get(Outcome.UNKNOWN)).isPositive();
        Result lin = LinearizabilityChecker.check(new KvModel(), recorder.history());
        assertThat(lin.verdict()).as(lin.report()).isEqualTo(Verdict.OK);
        Report streams = StreamChecker.check(committed, List.of(all.subscriber(), oneKey.subscriber()), lastRev);
        assertThat(streams.violations()).as(streams.text()).isEmpty();
        assertThat(StreamChecker.checkAcknowledged(committed, recorder.acknowledged())).isEmpty();
        assertThat(all.subscriber().sessions()).hasSizeGreaterThan(3);
        assertThat(all.connects()).isEqualTo(all.subscriber().sessions().size());
    }

    @Test
    void staleReadsAreCaught() throws Exception {
        fake.staleReads = true;
        Workload.Config config = Workload.Config.of(3, List.of(fake.address())).withClients(1).withKeys(2)
                .withOps(100, WAIT).withMix(new Workload.Mix(50, 50, 0, 0, 0));
        HistoryRecorder recorder = new HistoryRecorder();
        run(new Workload(vertx, config, recorder));
        Result lin = LinearizabilityChecker.check(new KvModel(), recorder.history());
        assertThat(lin.verdict()).as(lin.report()).isEqualTo(Verdict.ILLEGAL);
        assertThat(lin.report()).contains("stuck: ", "read " + config.collection() + "/k");
    }

    @Test
    void aChangeMissingFromTheStreamIsCaught() throws Exception {
        fake.dropStreamRev = 5;
        List<String> nodes = List.of(fake.address());
        Workload.Config config = Workload.Config.of(5, nodes).withClients(2).withOps(60, WAIT).withMix(new Workload.Mix(0, 1, 0, 0, 0));
        ChangeSubscriber sub = new ChangeSubscriber(vertx, "all", nodes, Filter.ALL, 0L, 3);
        sub.start().await(5, TimeUnit.SECONDS);
        run(new Workload(vertx, config, new HistoryRecorder()));
        List<StreamChecker.Committed> committed = Workload.fetchCommitted(vertx, fake.address(), 0).await(10, TimeUnit.SECONDS);
        long lastRev = committed.get(committed.size() - 1).rev();
        Await.until("the subscriber at rev " + lastRev, WAIT, () -> sub.completeRev() >= lastRev);
        sub.stop().await(5, TimeUnit.SECONDS);
        Report r = StreamChecker.check(committed, List.of(sub.subscriber()), lastRev);
        assertThat(r.text()).contains("gap: missing [rev 5.0 put");
    }

    @Test
    void theSameSeedReplaysTheSameSchedule() throws Exception {
        List<String> first = schedule(11);
        FakeCairn other = FakeCairn.start(vertx).await(5, TimeUnit.SECONDS);
        FakeCairn kept = fake;
        fake = other;
        List<String> again;
        try {
            again = schedule(11);
        } finally {
            fake = kept;
            other.close();
        }
        assertThat(again).isEqualTo(first);
        assertThat(schedule(12)).isNotEqualTo(first);
    }

    /** One client on a fresh store: what it asked and what it was told, in order. */
    private List<String> schedule(long seed) throws Exception {
        Workload.Config config = Workload.Config.of(seed, List.of(fake.address())).withClients(1).withOps(80, WAIT);
        HistoryRecorder recorder = new HistoryRecorder();
        run(new Workload(vertx, config, recorder));
        KvModel model = new KvModel();
        return recorder.history().stream().map(op -> model.describeOperation(op.input(), op.output())).toList();
    }

    @Test
    void theRecorderCountsOperationsInFlightAsUnknownAndListsAcknowledgedWrites() {
        HistoryRecorder r = new HistoryRecorder();
        HistoryRecorder.Pending put = r.invoke(1, KvInput.Put.plain("c/a", "x"));
        HistoryRecorder.Pending txn = r.invoke(2, new KvInput.Txn(List.of(new KvInput.TxnPut("c/b", "y", null), new KvInput.TxnCheck("c/a", 3))));
        HistoryRecorder.Pending hanging = r.invoke(3, KvInput.Put.plain("c/a", "z"));
        r.complete(put, new KvOutput.Written(3), Outcome.OK);
        r.complete(txn, new KvOutput.Written(4), Outcome.OK);
        assertThat(r.inFlight()).isEqualTo(1);
        assertThat(r.history()).hasSize(3).last().satisfies(op -> {
            assertThat(op.id()).isEqualTo(hanging.id());
            assertThat(op.outcome()).isEqualTo(Outcome.UNKNOWN);
        });
        assertThat(r.acknowledged()).containsExactly(
                new StreamChecker.Acknowledged(3, "c", "a", "put"), new StreamChecker.Acknowledged(4, "c", "b", "put"));
        assertThat(r.counts()).containsEntry(Outcome.OK, 2).containsEntry(Outcome.UNKNOWN, 1);
        assertThat(r.dump()).contains("#0 client 1", "put c/a=\"x\" -> ok @3", "UNKNOWN");
    }
}
