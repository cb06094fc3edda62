package io.cairn.store;

import java.util.List;

/**
 * One page of documents (from list or query). {@code next} is null on the last page, else the
 * value to pass as {@code after} for the following page: the last key for list, an opaque cursor
 * string for query. {@code count} is set only for count queries (then {@code docs} is empty).
 */
public record DocPage(List<Document> docs, String next, Long count) {
    public DocPage {
        docs = List.copyOf(docs);
    }
}
