package io.cairn.store;

import java.util.Objects;

/**
 * One operation of a {@link Command.Txn}. Ops of one transaction apply in order (a later op sees
 * the effect of an earlier one), all or none, with one revision: the log index of the entry.
 *
 * <p>Preconditions ({@code ifRev}): {@code null} = none; {@code 0} = the document must not exist;
 * {@code n > 0} = it must exist with rev {@code n}. A failed precondition is
 * {@code precondition_failed} (412); it is checked before {@code not_found}.
 */
public sealed interface Op {
    String collection();

    String key();

    /**
     * Create or replace the document. Creates the collection if it does not exist. {@code docJson}
     * is stored as given once it passes the checks; the leader proposes it in compact canonical form
     * ({@link Validation#normalize}). The same holds for {@link Insert}.
     */
    record Put(String collection, String key, String docJson, Long ifRev) implements Op {
        public Put {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(docJson, "docJson");
        }

        public Put(String collection, String key, String docJson) {
            this(collection, key, docJson, null);
        }
    }

    /**
     * Create a document; {@code conflict} (409) if the key exists. Creates the collection if it does
     * not exist. A {@code null} key asks the state machine to make one at apply time: {@link #generatedKey}
     * of the entry's index and the op's position, so generated keys sort in commit order on every
     * replica and across leader changes.
     */
    record Insert(String collection, String key, String docJson) implements Op {
        public Insert {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(docJson, "docJson");
        }
    }

    /** RFC 7396 merge patch of an existing document; {@code not_found} if it is missing. */
    record Patch(String collection, String key, String mergePatchJson, Long ifRev) implements Op {
        public Patch {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(mergePatchJson, "mergePatchJson");
        }

        public Patch(String collection, String key, String mergePatchJson) {
            this(collection, key, mergePatchJson, null);
        }
    }

    /** Remove a document; {@code not_found} if it is missing. */
    record Delete(String collection, String key, Long ifRev) implements Op {
        public Delete {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(key, "key");
        }

        public Delete(String collection, String key) {
            this(collection, key, null);
        }
    }

    /** Assert that the document is at {@code rev} ({@code 0} = does not exist); writes nothing. */
    record Check(String collection, String key, long rev) implements Op {
        public Check {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(key, "key");
        }
    }

    /** The key made for the insert at position {@code opIndex} of the entry at {@code index}: 20 hex digits. */
    static String generatedKey(long index, int opIndex) {
        return String.format("%016x%04x", index, opIndex);
    }
}
