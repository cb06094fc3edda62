package io.cairn.log;

import io.cairn.raft.Entry;
import io.cairn.raft.HardState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Append throughput of {@link RaftLogStore} at 256-byte payloads, 1 and 100 entries per persist
 * (one fsync each). Not part of the suite; run with
 * {@code mvn -q test -Dtest=RaftLogBenchmark -Dsurefire.failIfNoSpecifiedTests=false} (figures go
 * to target/surefire-reports/io.cairn.log.RaftLogBenchmark-output.txt) or from its main().
 */
class RaftLogBenchmark {
    private static final int PAYLOAD_BYTES = 256;
    private static final long RUN_MILLIS = 3_000;

    @Test
    void appendThroughput() throws Exception {
        main(new String[0]);
    }

    public static void main(String[] args) throws Exception {
        for (int batch : new int[] {1, 100}) {
            Path dir = Files.createTempDirectory("raftlog-bench");
            try (RaftLogStore store = RaftLogStore.open(dir.resolve("raft-log.db"))) {
                run(store, batch, 300); // warm-up
                long start = System.nanoTime();
                long entries = run(store, batch, RUN_MILLIS);
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf("batch %3d entries/persist: %,10.0f entries/s  %,8.0f persists/s%n",
                        batch, entries / seconds, entries / seconds / batch);
            }
        }
    }

    private static long run(RaftLogStore store, int batch, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        long written = 0;
        while (System.nanoTime() < deadline) {
            long next = store.lastIndex() + 1;
            List<Entry> entries = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) entries.add(LogFixtures.entry(next + i, 1, PAYLOAD_BYTES));
            store.persist(new HardState(1, "n1", next + batch - 1), entries);
            written += batch;
        }
        return written;
    }
}
