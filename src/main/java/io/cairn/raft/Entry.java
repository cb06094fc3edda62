package io.cairn.raft;

import java.util.Objects;

/**
 * One Raft log entry. {@code index} and {@code term} are at least 1. {@code data} is owned by the
 * entry once constructed: callers must not mutate the array afterwards.
 */
public record Entry(long index, long term, EntryType type, byte[] data) {
    public Entry {
        if (index < 1) throw new IllegalArgumentException("entry index must be >= 1: " + index);
        if (term < 1) throw new IllegalArgumentException("entry term must be >= 1: " + term);
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
    }

    /** Bytes this entry weighs in batch limits: its payload plus a fixed header. */
    public long sizeBytes() {
        return data.length + 24L;
    }
}
