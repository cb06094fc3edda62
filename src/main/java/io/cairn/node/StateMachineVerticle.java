package io.cairn.node;

import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import io.cairn.store.ApplyResult;
import io.cairn.store.Command;
import io.cairn.store.CommandCodec;
import io.cairn.store.DocumentStore;
import io.cairn.store.IndexedCommand;
import io.cairn.store.StoreOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies committed entries to {@code state.db} in order (the only writer of it), resolves the
 * proposals waiting on them, raises the applied index, and takes snapshots every
 * {@code snapshotEntries} applied entries. A worker verticle: applies are blocking JDBC.
 *
 * <p>A snapshot is {@code state.db} itself, made durable at the applied index (one fsync: applies
 * are not synced, the log replays them), after which the log is compacted up to that index, as
 * etcd does with its backend. No copy is made here: the leader copies {@code state.db} into a
 * snapshot file only when a follower needs one ({@link SnapshotFiles#make}). Copying 100 MB at
 * every snapshot stalled applies (and then competed for the CPU) for a second or more.
 */
final class StateMachineVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(StateMachineVerticle.class);

    private final NodeContext node;
    private final Path dbFile;
    private final StoreOptions storeOptions;
    private final Consumer<Long> onApplied;
    private long lastSnapshotIndex;
    private MessageConsumer<Object> consumer;

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
        consumer = vertx.eventBus().localConsumer(Bus.stateMachine(node.id()), msg -> {
            Object body = msg.body();
            if (body instanceof Bus.Apply a) {
                apply(a.entries());
            } else if (body instanceof Bus.Install i) {
                install(i);
            } else if (body instanceof Bus.TakeSnapshot t) {
                try {
                    t.waiter().complete(snapshot());
                } catch (RuntimeException e) {
                    t.waiter().fail(e);
                }
            }
        });
        return consumer.completion();
    }

    @Override
    public Future<?> stop() {
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }

    private void apply(List<Entry> entries) {
        if (node.failure() != null) return; // stopped after a fault: nothing is applied past it
        DocumentStore store = node.store();
        List<IndexedCommand> batch = new ArrayList<>(entries.size());
        for (Entry e : entries) batch.add(new IndexedCommand(e.index(), e.term(), command(e)));
        List<ApplyResult> results;
        long started = System.nanoTime();
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
        node.metrics().applied(entries.size(), System.nanoTime() - started);
        node.applied().advance(last);
        onApplied.accept(last);
        if (last - lastSnapshotIndex >= node.config().snapshotEntries()) {
            try {
                snapshot();
            } catch (RuntimeException ex) {
                log.warn("{} snapshot at {} failed: {}", node.id(), last, ex.toString());
            }
        }
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

    /** Makes the applied state durable and tells the ReplicationVerticle to compact the log up to it; answers its index. */
    private long snapshot() {
        long started = System.nanoTime();
        long index = node.store().sync();
        if (index == 0) return 0;
        lastSnapshotIndex = index;
        node.metrics().snapshot(System.nanoTime() - started);
        vertx.eventBus().send(Bus.replication(node.id()), new Bus.SnapshotTaken(index), LocalCodec.LOCAL);
        return index;
    }

    private void install(Bus.Install i) {
        DocumentStore fresh = node.snapshots().whileNotCopying(() -> { // a copy for a follower may still read the file this replaces
            DocumentStore old = node.swapStore(null);
            if (old != null) old.close();
            DocumentStore.restore(i.file(), dbFile);
            DocumentStore opened = DocumentStore.open(dbFile, storeOptions);
            node.swapStore(opened);
            return opened;
        });
        lastSnapshotIndex = Math.max(i.meta().index(), fresh.appliedIndex());
        node.proposals().supersededUpTo(i.meta().index());
        node.applied().advance(fresh.appliedIndex());
        onApplied.accept(fresh.appliedIndex());
        log.info("{} installed the leader's snapshot at index {}", node.id(), i.meta().index());
    }
}
