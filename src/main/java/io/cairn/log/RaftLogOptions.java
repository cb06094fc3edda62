package io.cairn.log;

/**
 * Limits of a {@link RaftLogStore}.
 *
 * @param batchEntriesMax most entries one {@link RaftLogStore#persist} call may write
 * @param batchBytesMax   most bytes (by {@link io.cairn.raft.Entry#sizeBytes()}) one persist call may write
 * @param loadBytesMax    most bytes of unsnapshotted entries {@link RaftLogStore#load()} will bring into
 *                        memory; a larger log fails the load (snapshot more often, or raise this)
 */
public record RaftLogOptions(int batchEntriesMax, long batchBytesMax, long loadBytesMax) {
    public static final RaftLogOptions DEFAULTS = new RaftLogOptions(10_000, 64L << 20, 512L << 20);

    public RaftLogOptions {
        if (batchEntriesMax < 1) throw new IllegalArgumentException("batchEntriesMax must be >= 1: " + batchEntriesMax);
        if (batchBytesMax < 1) throw new IllegalArgumentException("batchBytesMax must be >= 1: " + batchBytesMax);
        if (loadBytesMax < 1) throw new IllegalArgumentException("loadBytesMax must be >= 1: " + loadBytesMax);
    }
}
