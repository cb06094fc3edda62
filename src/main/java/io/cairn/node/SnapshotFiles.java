package io.cairn.node;

import io.cairn.raft.SnapshotMeta;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The snapshot files of a node in {@code <dataDir>/snapshots}: {@code snap-<index>-<term>.db} for
 * complete snapshots (taken here or received), {@code recv-<index>-<term>.part} while one arrives in
 * chunks. Blocking file I/O: call it from worker threads only.
 */
final class SnapshotFiles {
    /** Complete snapshots kept: the newest one serves followers, the one before covers a race. */
    private static final int KEEP = 2;

    private final Path dir;

    SnapshotFiles(Path dataDir) {
        this.dir = dataDir.resolve("snapshots");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    Path file(long index, long term) {
        return dir.resolve("snap-" + index + "-" + term + ".db");
    }

    Path file(SnapshotMeta meta) {
        return file(meta.index(), meta.term());
    }

    /** A fresh path for the state machine to write a new snapshot into, renamed by {@link #commit}. */
    Path temp() {
        return dir.resolve("taking-" + System.nanoTime() + ".tmp");
    }

    /** Moves a written snapshot into place under its index and term; removes older ones past {@link #KEEP}. */
    Path commit(Path written, long index, long term) {
        Path target = file(index, term);
        try {
            Files.move(written, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move snapshot into " + target, e);
        }
        prune();
        return target;
    }

    /** The newest complete snapshot at or above {@code minIndex}, if any. */
    Optional<Path> newest(long minIndex) {
        return complete().stream().filter(p -> indexOf(p) >= minIndex).reduce((a, b) -> b);
    }

    private Path pending(SnapshotMeta meta) {
        return dir.resolve("recv-" + meta.index() + "-" + meta.term() + ".part");
    }

    /** Writes a received chunk; offset 0 starts the file over. The last chunk is forced to disk. */
    void writeChunk(SnapshotMeta meta, long offset, byte[] data, boolean last) {
        Path p = pending(meta);
        try {
            if (offset == 0) Files.deleteIfExists(p);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                long at = offset;
                while (buf.hasRemaining()) at += ch.write(buf, at);
                if (last) ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write snapshot chunk to " + p, e);
        }
    }

    /** Makes the fully received snapshot of {@code meta} a complete one and returns its path. */
    Path completeReceived(SnapshotMeta meta) {
        return commit(pending(meta), meta.index(), meta.term());
    }

    /** Reads up to {@code bytesMax} bytes at {@code offset}; empty if that snapshot is gone. */
    Optional<Chunk> readChunk(SnapshotMeta meta, long offset, int bytesMax) {
        Path p = file(meta);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long size = ch.size();
            int n = (int) Math.max(0, Math.min(bytesMax, size - offset));
            ByteBuffer buf = ByteBuffer.allocate(n);
            while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
                // keep reading until the chunk is full
            }
            return Optional.of(new Chunk(buf.array(), offset + n >= size));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read snapshot " + p, e);
        }
    }

    record Chunk(byte[] data, boolean last) {}

    private List<Path> complete() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("snap-"))
                    .sorted(Comparator.comparingLong(SnapshotFiles::indexOf))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private void prune() {
        List<Path> all = complete();
        for (int i = 0; i < all.size() - KEEP; i++) {
            try {
                Files.deleteIfExists(all.get(i));
            } catch (IOException ignored) {
                // an old snapshot that stays is harmless; the next prune tries again
            }
        }
        try (Stream<Path> s = Files.list(dir)) {
            long newest = all.isEmpty() ? 0 : indexOf(all.get(all.size() - 1));
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("recv-")).toList()) {
                if (indexOf(p) <= newest) Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // leftovers are removed by a later prune
        }
    }

    private static long indexOf(Path p) {
        String[] parts = p.getFileName().toString().split("[-.]");
        try {
            return Long.parseLong(parts[1]);
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
