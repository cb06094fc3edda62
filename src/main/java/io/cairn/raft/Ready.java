package io.cairn.raft;

import java.util.List;

/**
 * Everything {@link Replication} needs done, as one value (the shape of etcd-io/raft's Ready). The
 * application handles a Ready in this order, then calls {@link Replication#advance(Ready)}:
 * <ol>
 *   <li>write {@link #snapshotChunks} into the pending snapshot file of their meta (a chunk at offset
 *       0 starts the file over);</li>
 *   <li>if {@link #snapshotToInstall} is set: make the pending file the snapshot, restore the state
 *       machine from it, delete the whole log and record the meta as the log base;</li>
 *   <li>append {@link #entries}: the first one may have an index at or below the last persisted
 *       index, in which case every persisted entry from that index on is deleted first (a
 *       conflicting suffix being overwritten);</li>
 *   <li>persist {@link #hardState} if not {@code null}; steps 2 to 4 durably (one transaction and one
 *       fsync, or entries before hard state);</li>
 *   <li>only then: send {@link #messages}, deliver {@link #toElection} to the Election, apply
 *       {@link #committedEntries} in order, answer {@link #readResults}, and read every
 *       {@link #snapshotReads} chunk and hand it to {@link Replication#snapshotChunkRead}.</li>
 * </ol>
 * All lists are immutable and bounded by {@link Config}.
 */
public record Ready(HardState hardState, List<Entry> entries, List<SnapshotChunk> snapshotChunks,
                    SnapshotMeta snapshotToInstall, List<Message> messages, List<Entry> committedEntries,
                    List<ReadResult> readResults, List<SnapshotRead> snapshotReads, List<ToElection> toElection) {
    public Ready {
        entries = List.copyOf(entries);
        snapshotChunks = List.copyOf(snapshotChunks);
        messages = List.copyOf(messages);
        committedEntries = List.copyOf(committedEntries);
        readResults = List.copyOf(readResults);
        snapshotReads = List.copyOf(snapshotReads);
        toElection = List.copyOf(toElection);
    }

    /** A received chunk of the snapshot {@code meta}: {@code data} belongs at {@code offset}. */
    public record SnapshotChunk(SnapshotMeta meta, long offset, byte[] data, boolean last) {}

    /**
     * The leader needs bytes [offset, offset + bytesMax) of its snapshot file {@code meta} for
     * {@code peer}: answer with {@link Replication#snapshotChunkRead}, or
     * {@link Replication#snapshotUnavailable} if that snapshot is gone.
     */
    public record SnapshotRead(String peer, SnapshotMeta meta, long offset, int bytesMax) {}

    /** Whether the durable part (snapshot, entries, hard state) is empty. */
    public boolean nothingToPersist() {
        return hardState == null && entries.isEmpty() && snapshotChunks.isEmpty() && snapshotToInstall == null;
    }
}
