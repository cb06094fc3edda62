package io.cairn.raft;

import java.util.Objects;

/** What a snapshot covers: every entry up to {@code index} (of {@code term}), and the membership then. */
public record SnapshotMeta(long index, long term, Membership membership) {
    public static final SnapshotMeta EMPTY = new SnapshotMeta(0, 0, Membership.EMPTY);

    public SnapshotMeta {
        if (index < 0 || term < 0) throw new IllegalArgumentException("negative snapshot index/term");
        Objects.requireNonNull(membership, "membership");
    }
}
