package io.cairn.log;

import io.cairn.raft.Entry;
import io.cairn.raft.HardState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Child process of {@link RaftLogStoreTest}: appends forever (sometimes overwriting the last few
 * entries with a higher term) and prints "acked lastIndex term" after each persist returns,
 * until the test kills it with SIGKILL.
 */
public final class CrashingLogWriter {
    private CrashingLogWriter() {}

    public static void main(String[] args) {
        Random random = new Random(42);
        try (RaftLogStore store = RaftLogStore.open(Path.of(args[0]))) {
            long term = 1;
            for (int batch = 0; ; batch++) {
                if (batch % 50 == 0) term++;
                long last = store.lastIndex();
                boolean overwrite = last > 4 && random.nextInt(5) == 0;
                long from = overwrite ? last - 3 : last + 1;
                int count = 4 + random.nextInt(40);
                List<Entry> entries = new ArrayList<>();
                for (long i = from; i < from + count; i++) entries.add(LogFixtures.entry(i, term, 256));
                store.persist(new HardState(term, "n1", 0), entries);
                System.out.println("acked " + store.lastIndex() + " " + term);
                System.out.flush();
            }
        }
    }
}
