package io.cairn.api;

import java.util.Objects;

/** How a read is served: its consistency, and for local reads the revision to wait for (0 = none). */
public record ReadOptions(Consistency consistency, long minRev) {
    public static final ReadOptions DEFAULT = new ReadOptions(Consistency.LINEARIZABLE, 0);

    public ReadOptions {
        Objects.requireNonNull(consistency, "consistency");
        if (minRev < 0) throw new IllegalArgumentException("minRev must be >= 0");
    }
}
