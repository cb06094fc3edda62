package io.cairn.node;

import io.cairn.log.RaftLogStore;
import io.cairn.raft.Entry;
import io.cairn.raft.Membership;
import io.cairn.raft.ProposeResult;
import io.cairn.raft.ReadResult;
import io.cairn.raft.Ready;
import io.cairn.raft.Replication;
import io.cairn.raft.SnapshotMeta;
import io.cairn.raft.Status;
import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.cairn.raft.Message;
import io.cairn.raft.Role;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only owner of Raft's durable truth on this node (DESIGN.md): it hosts the pure
 * {@link Replication} and the {@link RaftLogStore}. A worker verticle: persisting a Ready blocks
 * (one SQLite transaction, one fsync) and nothing else runs on its thread meanwhile. Events are
 * handled one by one; the Ready is taken once the queue of events has been drained (a flush task
 * queued behind them), so every proposal that arrived during the previous fsync shares the next one:
 * that is the group commit.
 */
final class ReplicationVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(ReplicationVerticle.class);
    /** Readies handled in one flush before yielding to queued events. */
    private static final int READIES_PER_FLUSH_MAX = 8;

    private final NodeContext node;
    private final Replication replication;
    private final RaftLogStore logStore;
    private final Map<Long, Waiter<Long>> reads = new HashMap<>();
    private final Map<SnapshotMeta, Future<Void>> makingSnapshots = new HashMap<>();
    private io.vertx.core.WorkerExecutor snapshotThread;
    private long nextReadId = 1;
    private boolean flushScheduled;
    private MessageConsumer<Object> consumer;
    private long tickTimer = -1;
    private boolean failed;
    private boolean stopped;
    private Membership lastMembership;
    private final long tickNanos;
    private long lastTickNanos;
    private long lastDroppedTickNanos;
    private boolean droppedTick;

    ReplicationVerticle(NodeContext node, Replication replication, RaftLogStore logStore) {
        this.node = node;
        this.replication = replication;
        this.logStore = logStore;
        this.tickNanos = node.config().tickMillis() * 1_000_000L;
        this.lastTickNanos = System.nanoTime() - tickNanos;
    }

    @Override
    public Future<?> start() {
        snapshotThread = vertx.createSharedWorkerExecutor("cairn-" + node.id() + "-snapshot", 1);
        consumer = vertx.eventBus().localConsumer(Bus.replication(node.id()), msg -> handle(msg.body()));
        tickTimer = vertx.setPeriodic(node.config().tickMillis(), t -> onTick());
        node.state().publish(replication.status());
        return consumer.completion();
    }

    /**
     * Ticks queue behind whatever this worker is doing; after a stall (a slow fsync, a GC pause, a
     * cold start) they would run back to back, ahead of the answers that arrived meanwhile, and a
     * new leader would count a whole CheckQuorum period without a chance to hear from anyone. So a
     * tick that runs less than half a tick after the previous one is dropped, as Go's ticker drops
     * ticks for a slow reader in etcd. The core's clock then runs slow, which would stretch a
     * leader's lease: {@link #readBarrier} refuses lease reads for an election timeout after a
     * dropped tick.
     */
    private void onTick() {
        if (!failed && node.failure() != null) fatal(new IllegalStateException("the state machine stopped", node.failure()));
        if (failed || stopped) return;
        long now = System.nanoTime();
        if (now - lastTickNanos < tickNanos / 2) {
            lastDroppedTickNanos = now;
            droppedTick = true;
            return;
        }
        lastTickNanos = now;
        replication.tick();
        scheduleFlush();
    }

    private boolean leaseClockTrusted() {
        return !droppedTick || System.nanoTime() - lastDroppedTickNanos > tickNanos * node.config().electionTicks();
    }

    /**
     * Runs on this verticle's worker context, after any task in progress: the log is closed here,
     * by its only user, so a flush still queued finds {@code stopped} and does nothing.
     */
    @Override
    public Future<?> stop() {
        stopped = true;
        vertx.cancelTimer(tickTimer);
        if (snapshotThread != null) snapshotThread.close();
        try {
            logStore.close();
        } catch (RuntimeException e) {
            log.warn("{} could not close the raft log: {}", node.id(), e.toString());
        }
        reads.values().forEach(w -> w.fail(new CairnException(ErrorCode.NOT_READY, "the node is stopping")));
        reads.clear();
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }

    private void handle(Object body) {
        if (failed || stopped) {
            refuse(body);
            return;
        }
        try {
            dispatch(body);
        } catch (RuntimeException e) {
            fatal(e);
            return;
        }
        scheduleFlush();
    }

    private void dispatch(Object body) {
        if (body instanceof Bus.PeerMessage m) {
            replication.step(m.message());
        } else if (body instanceof Bus.FromElection f) {
            replication.receive(f.record());
        } else if (body instanceof Bus.Propose p) {
            propose(p);
        } else if (body instanceof Bus.ReadBarrier r) {
            readBarrier(r);
        } else if (body instanceof Bus.ChangeMembership c) {
            changeMembership(c);
        } else if (body instanceof Bus.TransferLeadership t) {
            transfer(t);
        } else if (body instanceof Bus.SnapshotTaken s) {
            compact(s);
        } else {
            throw new IllegalStateException("unexpected message " + body.getClass().getName());
        }
    }

    private void propose(Bus.Propose p) {
        ProposeResult r = replication.propose(p.data());
        if (r instanceof ProposeResult.Accepted a) {
            if (!node.proposals().register(a.index(), a.term(), p.waiter())) {
                p.waiter().fail(new CairnException(ErrorCode.NOT_READY, "too many writes are waiting; retry"));
            }
        } else {
            p.waiter().fail(refusal(r));
        }
    }

    static CairnException refusal(ProposeResult r) {
        if (r instanceof ProposeResult.NotLeader) {
            return new CairnException(ErrorCode.NO_LEADER, "this node is not the leader and knows no leader right now; retry");
        }
        ProposeResult.Reason reason = ((ProposeResult.Refused) r).reason();
        return switch (reason) {
            case TOO_LARGE -> new CairnException(ErrorCode.PAYLOAD_TOO_LARGE, "the write is larger than a log entry may be");
            case BACKPRESSURE -> new CairnException(ErrorCode.NOT_READY, "too many writes wait for commit; retry");
            case TRANSFERRING -> new CairnException(ErrorCode.NO_LEADER, "leadership is being transferred; retry");
            case CHANGE_PENDING -> new CairnException(ErrorCode.CONFLICT,
                    "another membership change is in progress, or the leader is new; retry shortly");
            case INVALID_CHANGE -> new CairnException(ErrorCode.BAD_REQUEST, "that membership change is not possible");
        };
    }

    private void readBarrier(Bus.ReadBarrier r) {
        if (r.lease() && leaseClockTrusted()) {
            OptionalLong idx = replication.leaseReadIndex();
            if (idx.isPresent()) {
                r.waiter().complete(idx.getAsLong());
                return;
            }
        }
        long id = nextReadId++;
        reads.put(id, r.waiter());
        replication.readIndex(id);
    }

    private void changeMembership(Bus.ChangeMembership c) {
        ProposeResult r = replication.proposeMembership(c.change());
        if (r instanceof ProposeResult.Accepted a) {
            node.proposals().register(a.index(), a.term(), node.membershipWaiter(c.waiter(), a.index()));
        } else {
            c.waiter().fail(refusal(r));
        }
    }

    private void transfer(Bus.TransferLeadership t) {
        if (replication.transferLeadership(t.to())) {
            node.awaitLeader(t.to(), t.waiter());
        } else {
            t.waiter().fail(new CairnException(ErrorCode.BAD_REQUEST,
                    "cannot transfer leadership to '" + t.to() + "': this node is not the leader or that node is not a voter"));
        }
    }

    private void compact(Bus.SnapshotTaken s) {
        if (s.index() <= replication.snapshotMeta().index()) return;
        var found = replication.snapshotMetaAt(s.index());
        if (found.isEmpty()) return;
        SnapshotMeta meta = found.get();
        long started = System.nanoTime();
        replication.compact(meta);
        logStore.compact(meta);
        log.info("{} snapshot at index {} (term {}); log compacted in {} ms", node.id(), meta.index(), meta.term(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private void scheduleFlush() {
        if (flushScheduled || failed) return;
        flushScheduled = true;
        context.runOnContext(v -> flush());
    }

    private void flush() {
        flushScheduled = false;
        if (stopped) return;
        try {
            for (int i = 0; i < READIES_PER_FLUSH_MAX && replication.hasReady(); i++) {
                Ready rd = replication.ready();
                List<Message> later = sendLeaderAppendsEarly(rd);
                List<Entry> toApply = applyDurableEarly(rd);
                persist(rd);
                replication.advance(rd);
                act(rd, later, toApply);
            }
        } catch (RuntimeException e) {
            fatal(e);
            return;
        }
        publishStatus();
        if (replication.hasReady()) scheduleFlush();
    }

    private void publishStatus() {
        Status st = replication.status();
        Status before = node.state().status();
        if (before.role() != st.role() || !java.util.Objects.equals(before.leaderId(), st.leaderId())) {
            log.info("{} is {} in term {}; leader {}", node.id(), st.role(), st.term(), st.leaderId());
            if (st.leaderId() != null && !st.leaderId().equals(before.leaderId())) node.metrics().leaderChanged();
        }
        node.state().publish(st);
        if (!st.membership().equals(lastMembership)) {
            lastMembership = st.membership();
            vertx.eventBus().send(Bus.transport(node.id()), new Bus.Peers(st.membership()), LocalCodec.LOCAL);
        }
    }

    private void persist(Ready rd) {
        for (Ready.SnapshotChunk c : rd.snapshotChunks()) {
            log.debug("{} received snapshot {} chunk at {} ({} bytes, last {})", node.id(), c.meta().index(), c.offset(),
                    c.data().length, c.last());
            node.snapshots().writeChunk(c.meta(), c.offset(), c.data(), c.last());
        }
        if (rd.snapshotToInstall() != null) {
            SnapshotMeta meta = rd.snapshotToInstall();
            var file = node.snapshots().completeReceived(meta);
            logStore.installSnapshot(meta);
            // Sent before any later committed entry, on the same address: the state machine restores first.
            vertx.eventBus().send(Bus.stateMachine(node.id()), new Bus.Install(meta, file), LocalCodec.LOCAL);
        }
        if (rd.hardState() != null || !rd.entries().isEmpty()) {
            long started = System.nanoTime();
            logStore.persist(rd.hardState(), rd.entries());
            node.metrics().persisted(rd.entries().size(), System.nanoTime() - started);
        }
    }

    /**
     * A leader's AppendEntries and heartbeats go out before its own fsync, so the followers' disk
     * writes overlap the leader's (dissertation §10.2.1): the leader counts itself toward a commit
     * only once {@code advance} records its entries as persisted, and its term was made durable
     * when it campaigned. Everything else (vote answers above all) waits for the persist. Returns
     * the messages still to send.
     */
    private List<Message> sendLeaderAppendsEarly(Ready rd) {
        if (replication.role() != Role.LEADER || rd.messages().isEmpty()) return rd.messages();
        List<Message> early = new ArrayList<>();
        List<Message> later = new ArrayList<>();
        for (Message m : rd.messages()) {
            boolean append = m instanceof Message.AppendEntries || m instanceof Message.Heartbeat;
            (append ? early : later).add(m);
        }
        if (!early.isEmpty()) vertx.eventBus().send(Bus.transport(node.id()), new Bus.Outbound(early), LocalCodec.LOCAL);
        return later;
    }

    /**
     * Committed entries that this node's log already holds durably (they precede the entries of
     * this Ready, and every earlier Ready was persisted) go to the state machine before this
     * Ready's fsync, so applying overlaps the disk write instead of waiting for it. Entries that
     * this Ready writes apply only after it is durable: the state machine must never get ahead of
     * the log it restarts from. Returns the committed entries still to apply after the persist.
     */
    private List<Entry> applyDurableEarly(Ready rd) {
        List<Entry> committed = rd.committedEntries();
        // After a snapshot install, the state machine must restore before it applies anything.
        if (committed.isEmpty() || rd.snapshotToInstall() != null) return committed;
        long firstWritten = rd.entries().isEmpty() ? Long.MAX_VALUE : rd.entries().get(0).index();
        int durable = 0;
        while (durable < committed.size() && committed.get(durable).index() < firstWritten) durable++;
        if (durable == 0) return committed;
        vertx.eventBus().send(Bus.stateMachine(node.id()), new Bus.Apply(committed.subList(0, durable)), LocalCodec.LOCAL);
        return committed.subList(durable, committed.size());
    }

    private void act(Ready rd, List<Message> messages, List<Entry> toApply) {
        if (!messages.isEmpty()) {
            vertx.eventBus().send(Bus.transport(node.id()), new Bus.Outbound(messages), LocalCodec.LOCAL);
        }
        if (!rd.toElection().isEmpty()) {
            vertx.eventBus().send(Bus.election(node.id()), new Bus.FromReplication(rd.toElection()), LocalCodec.LOCAL);
        }
        if (!toApply.isEmpty()) {
            vertx.eventBus().send(Bus.stateMachine(node.id()), new Bus.Apply(toApply), LocalCodec.LOCAL);
        }
        for (ReadResult r : rd.readResults()) answerRead(r);
        for (Ready.SnapshotRead r : rd.snapshotReads()) serveSnapshotRead(r);
    }

    private void answerRead(ReadResult r) {
        Waiter<Long> w = reads.remove(r.requestId());
        if (w == null) return;
        if (r instanceof ReadResult.Confirmed c) {
            w.complete(c.index());
            return;
        }
        ReadResult.Reason reason = ((ReadResult.Failed) r).reason();
        w.fail(switch (reason) {
            case NOT_LEADER, LEADERSHIP_LOST -> new CairnException(ErrorCode.NO_LEADER,
                    "no leader could confirm the read right now; retry");
            case TIMEOUT -> new CairnException(ErrorCode.TIMEOUT, "the leader could not confirm the read in time");
            case BACKPRESSURE -> new CairnException(ErrorCode.NOT_READY, "too many reads are waiting; retry");
        });
    }

    /**
     * Answers the core's request for a chunk of the snapshot a follower needs. The first request
     * for a snapshot point finds no file: a copy of state.db is made on the snapshot thread (this
     * one must not wait seconds for it) and the request is answered once it exists. If the copy
     * fails, the request stays unanswered and the core asks again after an election timeout.
     */
    private void serveSnapshotRead(Ready.SnapshotRead r) {
        if (!node.snapshots().has(r.meta())) {
            makeSnapshotFile(r.meta()).onSuccess(v -> {
                if (!stopped && !failed) serveSnapshotRead(r);
            });
            return;
        }
        var chunk = node.snapshots().readChunk(r.meta(), r.offset(), r.bytesMax());
        log.debug("{} serves snapshot {} at {} to {}: {}", node.id(), r.meta().index(), r.offset(), r.peer(), chunk.isPresent());
        if (chunk.isPresent()) {
            replication.snapshotChunkRead(r.peer(), r.meta(), r.offset(), chunk.get().data(), chunk.get().last());
        } else {
            replication.snapshotUnavailable(r.peer(), r.meta());
        }
        scheduleFlush();
    }

    /** The copy of state.db for snapshot point {@code meta}, made once however many followers ask. */
    private Future<Void> makeSnapshotFile(SnapshotMeta meta) {
        Future<Void> making = makingSnapshots.get(meta);
        if (making != null) return making;
        var store = node.store();
        if (store == null) return Future.failedFuture("no store (a snapshot is being installed)");
        long started = System.nanoTime();
        making = snapshotThread.executeBlocking(() -> {
            node.snapshots().make(store, meta);
            return null;
        }, false);
        makingSnapshots.put(meta, making);
        making.onComplete(ar -> {
            makingSnapshots.remove(meta);
            if (ar.succeeded()) {
                log.info("{} made the snapshot file of index {} for a follower in {} ms", node.id(), meta.index(),
                        (System.nanoTime() - started) / 1_000_000);
            } else {
                log.warn("{} could not make the snapshot file of index {}: {}", node.id(), meta.index(), ar.cause().toString());
            }
        });
        return making;
    }

    private void refuse(Object body) {
        CairnException e = new CairnException(ErrorCode.NOT_READY, "this node stopped replicating after a storage fault");
        if (body instanceof Bus.Propose p) p.waiter().fail(e);
        if (body instanceof Bus.ReadBarrier r) r.waiter().fail(e);
        if (body instanceof Bus.ChangeMembership c) c.waiter().fail(e);
        if (body instanceof Bus.TransferLeadership t) t.waiter().fail(e);
    }

    /**
     * A broken invariant or a storage fault: the in-memory state can no longer be trusted, so this
     * node stops taking part in Raft (it answers {@code not_ready}) until restarted from its files.
     */
    private void fatal(RuntimeException e) {
        if (failed) return;
        failed = true;
        log.error("{} replication stopped: {}", node.id(), e.toString(), e);
        node.replicationFailed(e);
    }
}
