package io.cairn.store;

/**
 * One entry of the change history. {@code op} is {@code put}, {@code delete} or {@code drop};
 * {@code seq} orders changes within one revision (0-based, op order of the Txn). {@code key}
 * is null for {@code drop}; {@code doc} is the document after the change (null for delete and
 * drop); {@code prev} the document before it (null if it did not exist, and for drop).
 */
public record Change(long rev, int seq, String op, String collection, String key, String doc, String prev) {}
