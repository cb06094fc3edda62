package io.cairn.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A store in a fresh temp directory, removed on close. Feeds commands at consecutive indexes. */
final class StoreFixture implements AutoCloseable {
    final Path dir;
    final StoreOptions options;
    DocumentStore store;
    long term = 1;

    StoreFixture() {
        this(StoreOptions.defaults().withReadConnections(2));
    }

    StoreFixture(StoreOptions options) {
        try {
            this.dir = Files.createTempDirectory("cairn-store-test");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.options = options;
        this.store = DocumentStore.open(dbFile(), options);
    }

    Path dbFile() {
        return dir.resolve("state.db");
    }

    ApplyResult apply(Command c) {
        return store.apply(store.appliedIndex() + 1, term, c);
    }

    ApplyResult txn(Op... ops) {
        return apply(Command.Txn.of(1000, ops));
    }

    ApplyResult put(String coll, String key, String json) {
        return txn(new Op.Put(coll, key, json));
    }

    void reopen() {
        store.close();
        store = DocumentStore.open(dbFile(), options);
    }

    @Override
    public void close() {
        store.close();
        deleteTree(dir);
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
