package io.cairn.store;

import java.util.Objects;

/** A command with the log position it was committed at: {@code index >= 1}, {@code term >= 1}. */
public record IndexedCommand(long index, long term, Command command) {
    public IndexedCommand {
        if (index < 1) throw new IllegalArgumentException("index must be >= 1: " + index);
        if (term < 1) throw new IllegalArgumentException("term must be >= 1: " + term);
        Objects.requireNonNull(command, "command");
    }
}
