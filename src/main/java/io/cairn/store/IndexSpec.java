package io.cairn.store;

import java.util.List;
import java.util.Objects;

/**
 * The definition of an index: its {@code name} (API name pattern), the dotted field paths it
 * orders by (1..{@link StoreOptions#indexFieldsMax()}), and whether it rejects a second document
 * with the same values. Checked by {@link Validation#indexSpec}; the record only refuses nulls.
 */
public record IndexSpec(String name, List<String> fields, boolean unique) {
    public IndexSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(fields, "fields");
        fields = List.copyOf(fields);
    }

    public static IndexSpec of(String name, boolean unique, String... fields) {
        return new IndexSpec(name, List.of(fields), unique);
    }
}
