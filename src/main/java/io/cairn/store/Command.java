package io.cairn.store;

import java.util.List;
import java.util.Objects;

/**
 * What one Raft log entry asks of the state machine. Built by the leader (after
 * {@link Validation#normalize}), carried by {@link CommandCodec}, applied by
 * {@link DocumentStore#apply}.
 *
 * <p>{@link #timeMillis()} is the leader's wall clock when it proposed the command, fixed in the
 * entry; the store uses it for nothing but trimming the change history by age, so applying stays
 * deterministic.
 */
public sealed interface Command {
    /** Leader-fixed time of the command, epoch milliseconds (>= 0). */
    long timeMillis();

    /**
     * Create a collection with these indexes. Created: {@code created=true} (201). Exists and every
     * listed index exists with the same definition: unchanged (200). Otherwise {@code conflict} (409).
     */
    record CreateCollection(String name, List<IndexSpec> indexes, long timeMillis) implements Command {
        public CreateCollection {
            Objects.requireNonNull(name, "name");
            indexes = List.copyOf(Objects.requireNonNull(indexes, "indexes"));
        }
    }

    /** Drop a collection with its documents and indexes; {@code not_found} if it does not exist. */
    record DropCollection(String name, long timeMillis) implements Command {
        public DropCollection {
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * Create an index and index the existing documents (the collection is created if missing).
     * Same definition exists: unchanged (200). Another definition under the name: {@code conflict}.
     * A unique index whose existing documents clash: {@code unique_violation}, nothing changes.
     */
    record CreateIndex(String collection, IndexSpec index, long timeMillis) implements Command {
        public CreateIndex {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(index, "index");
        }
    }

    /** Drop an index; {@code not_found} if the collection or index does not exist. */
    record DropIndex(String collection, String name, long timeMillis) implements Command {
        public DropIndex {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(name, "name");
        }
    }

    /**
     * Ops applied in order, all or nothing, with one revision. A single-document HTTP write is a
     * Txn of one op. A rejected Txn reports the index of the failing op as detail {@code failedOp}.
     */
    record Txn(List<Op> ops, long timeMillis) implements Command {
        public Txn {
            ops = List.copyOf(Objects.requireNonNull(ops, "ops"));
        }

        public static Txn of(long timeMillis, Op... ops) {
            return new Txn(List.of(ops), timeMillis);
        }
    }

    /** Changes nothing but the applied index: for NOOP and membership entries. */
    record Noop(long timeMillis) implements Command {
        public static final Noop INSTANCE = new Noop(0);
    }
}
