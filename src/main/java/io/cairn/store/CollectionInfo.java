package io.cairn.store;

import java.util.List;

/** A collection: name, document count, indexes (by name), and the revision that created it. */
public record CollectionInfo(String name, long count, List<IndexSpec> indexes, long createdRev) {
    public CollectionInfo {
        indexes = List.copyOf(indexes);
    }
}
