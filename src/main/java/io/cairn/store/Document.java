package io.cairn.store;

/** A stored document: its key, the revision of its last change, and its JSON text (an object). */
public record Document(String key, long rev, String json) {}
