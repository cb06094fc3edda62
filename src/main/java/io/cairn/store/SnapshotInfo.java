package io.cairn.store;

import java.nio.file.Path;

/** A snapshot file and what it covers: every entry up to {@code index} (of {@code term}). */
public record SnapshotInfo(Path file, long index, long term, long bytes) {}
