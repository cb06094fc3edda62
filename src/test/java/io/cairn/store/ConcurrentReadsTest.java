package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Reads from many threads while the writer applies: each read sees one committed state (two
 * documents written by one transaction always agree, and a page reports the revision it saw), and
 * the revision a thread sees never goes back.
 */
class ConcurrentReadsTest {
    @Test
    void readsSeeWholeTransactionsAndMonotonicRevisions() throws Exception {
        try (StoreFixture f = new StoreFixture(StoreOptions.defaults().withReadConnections(3))) {
            f.apply(new Command.CreateCollection("c", List.of(IndexSpec.of("by_n", false, "n")), 0));
            f.txn(new Op.Put("c", "x", "{\"n\":0}"), new Op.Put("c", "y", "{\"n\":0}"));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            int[] reads = new int[2];
            for (int t = 0; t < 2; t++) {
                int id = t;
                Thread r = new Thread(() -> {
                    long lastRev = 0;
                    try {
                        while (!stop.get()) {
                            Versioned<DocPage> page = f.store.list("c", null, null, 10);
                            List<Document> docs = page.value().docs();
                            assertThat(docs).hasSize(2);
                            assertThat(docs.get(0).json()).isEqualTo(docs.get(1).json());
                            assertThat(docs.get(0).rev()).isEqualTo(page.appliedRev());
                            assertThat(page.appliedRev()).isGreaterThanOrEqualTo(lastRev);
                            lastRev = page.appliedRev();
                            Versioned<DocPage> q = f.store.query("c", Query.all("by_n").withDesc(id % 2 == 0));
                            assertThat(q.value().docs()).hasSize(2);
                            assertThat(q.value().docs().get(0).json()).isEqualTo(q.value().docs().get(1).json());
                            Object n = ((Map<?, ?>) Json.parse(q.value().docs().get(0).json(), 4)).get("n");
                            assertThat(q.value().docs().get(0).rev()).isEqualTo(q.appliedRev());
                            assertThat(n).isEqualTo(q.appliedRev() - 2);
                            reads[id]++;
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }, "reader-" + t);
                readers.add(r);
                r.start();
            }
            long deadline = System.nanoTime() + 2_000_000_000L;
            for (int i = 1; i <= 200 && (i < 20 || System.nanoTime() < deadline); i++) {
                long n = f.store.appliedIndex() + 1 - 2;
                f.txn(new Op.Put("c", "x", "{\"n\":" + n + "}"), new Op.Put("c", "y", "{\"n\":" + n + "}"));
                if (failure.get() != null) break;
            }
            stop.set(true);
            for (Thread r : readers) r.join();
            assertThat(failure.get()).isNull();
            for (int r : reads) assertThat(r).isPositive();
        }
    }
}
