package io.cairn.node;

import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import io.cairn.store.ApplyResult;
import io.cairn.store.Command;
import io.cairn.store.CommandCodec;
import io.cairn.store.DocumentStore;
import io.cairn.store.IndexedCommand;
import io.cairn.store.SnapshotInfo;
import io.cairn.store.StoreOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies committed entries to {@code state.db} in order (the only writer of it), resolves the
 * proposals waiting on them, raises the applied index, and takes snapshots every
 * {@code snapshotEntries} applied entries. A worker verticle: applies are blocking JDBC.
 *
 * <p>A snapshot (an online backup of {@code state.db}, seconds for a large store) runs on a
 * thread of its own while applies go on; at most one at a time. Installing the leader's snapshot
 * waits for a local one still running, since it replaces the file that one reads.
 */
final class StateMachineVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(StateMachineVerticle.class);

    private final NodeContext node;
    private final Path dbFile;
    private final StoreOptions storeOptions;
    private final Consumer<Long> onApplied;
    private long lastSnapshotIndex;
    private MessageConsumer<Object> consumer;
    private WorkerExecutor snapshotter;
    /** The snapshot being taken, or null; on this verticle's context. */
    private Future<Long> snapshotting;
    /** Completes when the backup running on the snapshotter thread ends (this thread may block on it). */
    private CompletableFuture<Void> backupDone = CompletableFuture.completedFuture(null);

    /** {@code onApplied} hears every new applied index (change streams wake on it). */
    StateMachineVerticle(NodeContext node, Path dbFile, StoreOptions storeOptions, long lastSnapshotIndex,
                         Consumer<Long> onApplied) {
        this.node = node;
        this.dbFile = dbFile;
        this.storeOptions = storeOptions;
        this.lastSnapshotIndex = lastSnapshotIndex;
        this.onApplied = onApplied;
    }

    @Override
    public Future<?> start() {
        snapshotter = vertx.createSharedWorkerExecutor("cairn-snapshot-" + node.id(), 1);
        consumer = vertx.eventBus().localConsumer(Bus.stateMachine(node.id()), msg -> {
            Object body = msg.body();
            if (body instanceof Bus.Apply a) {
                apply(a.entries());
            } else if (body instanceof Bus.Install i) {
                install(i);
            } else if (body instanceof Bus.TakeSnapshot t) {
                snapshot().onComplete(ar -> {
                    if (ar.succeeded()) t.waiter().complete(ar.result());
                    else t.waiter().fail(ar.cause());
                });
            }
        });
        return consumer.completion();
    }

    @Override
    public Future<?> stop() {
        backupDone.join(); // the store closes after this verticle: no backup may still read it
        if (snapshotter != null) snapshotter.close();
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }

    private void apply(List<Entry> entries) {
        if (node.failure() != null) return; // stopped after a fault: nothing is applied past it
        DocumentStore store = node.store();
        List<IndexedCommand> batch = new ArrayList<>(entries.size());
        for (Entry e : entries) batch.add(new IndexedCommand(e.index(), e.term(), command(e)));
        List<ApplyResult> results;
        try {
            results = store.applyBatch(batch);
        } catch (RuntimeException e) {
            // SQLite failed (disk full, I/O error): the batch rolled back and is never sent again, so every later
            // batch would leave a gap. Stop the node as a failed log write does: it answers not_ready, says so in
            // /health/ready, and its replication stops, so another node leads; a restart replays from the log.
            log.error("{} could not apply entries {}..{}; the node stops: {}", node.id(), entries.get(0).index(),
                    entries.get(entries.size() - 1).index(), e.toString(), e);
            node.replicationFailed(e);
            return;
        }
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            node.proposals().applied(e.index(), e.term(), results.get(i));
        }
        long last = entries.get(entries.size() - 1).index();
        node.metrics().applied(entries.size());
        node.applied().advance(last);
        onApplied.accept(last);
        if (snapshotting == null && last - lastSnapshotIndex >= node.config().snapshotEntries()) snapshot();
    }

    private Command command(Entry e) {
        if (e.type() != EntryType.NORMAL) return Command.Noop.INSTANCE;
        try {
            return CommandCodec.decode(e.data());
        } catch (RuntimeException ex) {
            // Every replica decodes the same bytes the same way, so skipping stays deterministic.
            log.error("{} entry {} holds no readable command; applied as a no-op: {}", node.id(), e.index(), ex.toString());
            return Command.Noop.INSTANCE;
        }
    }

    /**
     * Starts a snapshot of the current state on the snapshotter thread (or answers the one already
     * running); once it is written, tells the ReplicationVerticle to compact up to it. Answers its
     * index (0: nothing applied yet).
     */
    private Future<Long> snapshot() {
        if (snapshotting != null) return snapshotting;
        DocumentStore store = node.store();
        SnapshotFiles files = node.snapshots();
        long started = System.nanoTime();
        CompletableFuture<Void> done = new CompletableFuture<>();
        backupDone = done;
        Future<SnapshotInfo> written = snapshotter.executeBlocking(() -> {
            Path tmp = files.temp();
            try {
                SnapshotInfo info = store.snapshot(tmp);
                if (info.index() == 0) {
                    Files.deleteIfExists(tmp);
                    return info;
                }
                Path file = files.commit(tmp, info.index(), info.term());
                return new SnapshotInfo(file, info.index(), info.term(), info.bytes());
            } catch (RuntimeException | java.io.IOException e) {
                Files.deleteIfExists(tmp);
                throw e;
            } finally {
                done.complete(null);
            }
        }, false);
        Future<Long> taken = written.map(info -> {
            if (info.index() == 0) return 0L;
            lastSnapshotIndex = Math.max(lastSnapshotIndex, info.index());
            node.metrics().snapshot(System.nanoTime() - started);
            vertx.eventBus().send(Bus.replication(node.id()), new Bus.SnapshotTaken(info.index(), info.file()), LocalCodec.LOCAL);
            return info.index();
        });
        snapshotting = taken;
        taken.onComplete(ar -> {
            snapshotting = null;
            if (ar.failed()) log.warn("{} snapshot failed: {}", node.id(), ar.cause().toString());
        });
        return taken;
    }

    private void install(Bus.Install i) {
        backupDone.join(); // a local snapshot still reading the file this replaces
        DocumentStore old = node.swapStore(null);
        if (old != null) old.close();
        DocumentStore.restore(i.file(), dbFile);
        DocumentStore fresh = DocumentStore.open(dbFile, storeOptions);
        node.swapStore(fresh);
        lastSnapshotIndex = Math.max(lastSnapshotIndex, i.meta().index());
        node.proposals().supersededUpTo(i.meta().index());
        node.applied().advance(fresh.appliedIndex());
        onApplied.accept(fresh.appliedIndex());
        log.info("{} installed the leader's snapshot at index {}", node.id(), i.meta().index());
    }
}
