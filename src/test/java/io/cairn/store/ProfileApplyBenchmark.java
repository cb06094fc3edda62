package io.cairn.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs applies for a while, for a profiler: args rounds, entries per batch. Not a test. */
public final class ProfileApplyBenchmark {
    public static void main(String[] args) throws Exception {
        List<StoreBenchmark.Row> rows = StoreBenchmark.rows(5_000);
        Path dir = Files.createTempDirectory("cairn-prof");
        try {
            for (int r = 0; r < Integer.parseInt(args[0]); r++) {
                StoreBenchmark.storeApply(dir.resolve("p" + r + ".db"), rows, Integer.parseInt(args[1]), 1);
            }
        } finally {
            StoreFixture.deleteTree(dir);
        }
    }
}
