package io.cairn.store;

/**
 * A read answer with {@code appliedRev}: the applied index of the consistent state the read saw
 * (for {@code X-Cairn-Rev}). Everything in {@code value} comes from that one state.
 */
public record Versioned<T>(T value, long appliedRev) {}
