package io.cairn.node;

import io.cairn.raft.SnapshotMeta;
import io.cairn.store.DocumentStore;
import io.cairn.store.SnapshotInfo;
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
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * The snapshot files of a node in {@code <dataDir>/snapshots}: {@code snap-<index>-<term>.db} for
 * complete snapshots (made here for a follower that needs one, or received),
 * {@code taking-*.tmp} while one is made, {@code recv-<index>-<term>.part} while one arrives in
 * chunks. A file made here for the snapshot point (index, term) is a copy of {@code state.db} taken
 * when a follower first needed it, so it may hold more than that point: a node installing it
 * skips the entries it already holds ({@link DocumentStore#applyBatch}). Blocking file I/O: call it
 * from worker threads only.
 */
final class SnapshotFiles {
    /** Complete snapshots kept: the newest one serves followers, the one before covers a race. */
    private static final int KEEP = 2;

    private final Path dir;
    /** Held while a copy of state.db is made, and by whoever replaces state.db meanwhile. */
    private final ReentrantLock copying = new ReentrantLock();

    SnapshotFiles(Path dataDir) {
        this.dir = dataDir.resolve("snapshots");
        try {
            Files.createDirectories(dir);
            try (Stream<Path> s = Files.list(dir)) { // copies a crash interrupted
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("taking-")).toList()) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /** Whether the complete snapshot file of {@code meta} exists. */
    boolean has(SnapshotMeta meta) {
        return Files.isRegularFile(file(meta));
    }

    /**
     * Makes the file of the snapshot point {@code meta} from the store's current state (an online
     * backup: seconds for a large store; applies go on). The store must have applied at least
     * {@code meta.index()}.
     */
    void make(DocumentStore store, SnapshotMeta meta) {
        copying.lock();
        try {
            if (has(meta)) return;
            Path tmp = temp();
            try {
                SnapshotInfo info = store.snapshot(tmp);
                if (info.index() < meta.index()) {
                    throw new IllegalStateException("state.db holds index " + info.index() + ", behind the snapshot point " + meta.index());
                }
                commit(tmp, meta.index(), meta.term());
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make snapshot " + file(meta), e);
        } finally {
            copying.unlock();
        }
    }

    /** Runs {@code action} (which replaces state.db) once no copy of it is being made, and none starts meanwhile. */
    <T> T whileNotCopying(java.util.function.Supplier<T> action) {
        copying.lock();
        try {
            return action.get();
        } finally {
            copying.unlock();
        }
    }

    Path file(long index, long term) {
        return dir.resolve("snap-" + index + "-" + term + ".db");
    }

    Path file(SnapshotMeta meta) {
        return file(meta.index(), meta.term());
    }

    /** A fresh path to write a new snapshot into, renamed by {@link #commit}. */
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
