package io.cairn.node;

import io.cairn.config.CairnConfig;
import io.cairn.log.RaftLogStore;
import io.cairn.raft.Config;
import io.cairn.raft.DurableState;
import io.cairn.raft.Election;
import io.cairn.raft.HardState;
import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import io.cairn.raft.MembershipChange;
import io.cairn.raft.Replication;
import io.cairn.raft.SnapshotMeta;
import io.cairn.store.ApplyResult;
import io.cairn.store.CairnException;
import io.cairn.store.Command;
import io.cairn.store.CommandCodec;
import io.cairn.store.DocumentStore;
import io.cairn.store.ErrorCode;
import io.cairn.store.StoreOptions;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Cairn node: opens its files, restores Raft and the store, and deploys the verticles of
 * DESIGN.md (state machine, replication, election, transport) into a Vert.x instance. Front ends
 * use its methods, which are safe to call from any event loop; each returns a Future completed on
 * the caller's context and bounded by the configured timeouts.
 */
public final class CairnNode {
    private static final Logger log = LoggerFactory.getLogger(CairnNode.class);

    private final Vertx vertx;
    private final CairnConfig config;
    private final NodeContext ctx;
    private final RaftLogStore logStore;
    private final List<String> deployments = new ArrayList<>();
    private TransportVerticle transport;
    private final StoreOptions storeOptions;

    private CairnNode(Vertx vertx, CairnConfig config, NodeContext ctx, RaftLogStore logStore) {
        this.vertx = vertx;
        this.config = config;
        this.ctx = ctx;
        this.logStore = logStore;
        this.storeOptions = storeOptions(config);
    }

    /**
     * Opens the data directory and starts the node. {@code forwardHandler} serves writes that
     * followers forward here; {@code onApplied} hears each new applied index. Blocking file work
     * runs on a worker thread. Fails with a clear message if the files cannot be opened or a port
     * cannot be bound.
     */
    public static Future<CairnNode> start(Vertx vertx, CairnConfig config, Function<byte[], Future<byte[]>> forwardHandler,
                                          Consumer<Long> onApplied) {
        LocalCodec.register(vertx);
        return vertx.executeBlocking(() -> open(vertx, config))
                .compose(node -> node.deploy(forwardHandler, onApplied).map(node)
                        .recover(e -> node.stop().transform(ignored -> Future.failedFuture(e))));
    }

    private static CairnNode open(Vertx vertx, CairnConfig config) throws IOException {
        Files.createDirectories(config.dataDir());
        RaftLogStore logStore = RaftLogStore.open(config.dataDir().resolve("raft-log.db"));
        try {
            RaftLogStore.Restored restored = logStore.load();
            SnapshotFiles snapshots = new SnapshotFiles(config.dataDir());
            DocumentStore store = openStore(config, restored.snapshot(), snapshots);
            DurableState durable = durableState(config, logStore, restored, store.appliedIndex());
            Replication replication = new Replication(raftConfig(config), durable);
            NodeContext ctx = new NodeContext(vertx, config, new NodeState(replication.status()), store, snapshots);
            CairnNode node = new CairnNode(vertx, config, ctx, logStore);
            node.replication = replication;
            return node;
        } catch (RuntimeException e) {
            logStore.close();
            throw e;
        }
    }

    private Replication replication;
    /** Once deployed, the ReplicationVerticle owns the log and closes it as it stops. */
    private volatile boolean replicationDeployed;

    private static DocumentStore openStore(CairnConfig config, SnapshotMeta snapshot, SnapshotFiles snapshots) {
        Path db = config.dataDir().resolve("state.db");
        StoreOptions options = storeOptions(config);
        DocumentStore store = DocumentStore.open(db, options);
        if (store.appliedIndex() >= snapshot.index()) return store;
        // The log was compacted past what state.db holds (a crash while installing a snapshot).
        store.close();
        Path file = snapshots.file(snapshot);
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("state.db is behind the log's snapshot " + snapshot.index()
                    + " and the snapshot file " + file + " is missing");
        }
        DocumentStore.restore(file, db);
        return DocumentStore.open(db, options);
    }

    static StoreOptions storeOptions(CairnConfig c) {
        StoreOptions d = StoreOptions.defaults();
        return new StoreOptions((int) c.docBytesMax(), d.nestingDepthMax(), d.indexFieldsMax(), d.indexesPerCollectionMax(),
                d.collectionsMax(), d.txnOpsMax(), (int) Math.max(c.docBytesMax(), c.requestBytesMax()), c.historyRetain(),
                c.historyRetainMillis(), d.readConnections(), d.readWaitMillis(), d.pageLimitMax(), d.pageBytesMax(),
                d.changesScanMax(), d.synchronousOff(), d.cacheKiB());
    }

    private static DurableState durableState(CairnConfig config, RaftLogStore logStore, RaftLogStore.Restored r,
                                             long appliedIndex) {
        boolean fresh = r.hardState().equals(HardState.EMPTY) && r.snapshot().index() == 0
                && r.snapshot().membership().members().isEmpty() && r.entries().isEmpty();
        if (!fresh) {
            long applied = Math.max(appliedIndex, r.snapshot().index());
            return new DurableState(r.hardState(), r.snapshot(), r.entries(), applied);
        }
        if (!config.join().isEmpty()) {
            log.info("{} has a new data directory and will join the cluster at {}", config.nodeId(), config.join());
            return DurableState.joining();
        }
        List<Member> members = new ArrayList<>();
        for (CairnConfig.PeerSpec p : config.initialVoters()) {
            members.add(new Member(p.id(), p.raftAddress(), p.httpAddress(), true));
        }
        Membership initial = new Membership(members);
        logStore.bootstrap(initial);
        log.info("{} bootstraps a new cluster of {}", config.nodeId(), initial.voterIds());
        return DurableState.bootstrap(initial);
    }

    static Config raftConfig(CairnConfig c) {
        Config d = Config.defaults(c.nodeId());
        int entryBytesMax = (int) Math.min(io.cairn.raft.MessageCodec.ENTRY_BYTES_MAX, c.requestBytesMax() + (1 << 16));
        return new Config(c.nodeId(), c.electionTicks(), c.heartbeatTicks(), d.appendEntriesMax(), d.appendBytesMax(),
                d.inflightMax(), d.snapshotChunkBytes(), true, true, Math.max(1, c.electionTicks() / 5),
                d.applyEntriesMax(), d.applyBytesMax(), Math.max(d.uncommittedBytesMax(), entryBytesMax), entryBytesMax,
                d.pendingReadsMax(), d.promoteLagEntriesMax(), d.outboxMessagesMax());
    }

    private Future<Void> deploy(Function<byte[], Future<byte[]>> forwardHandler, Consumer<Long> onApplied) {
        long snapshotIndex = replication.snapshotMeta().index();
        Election election = new Election(raftConfig(config), new SplittableRandom(new SecureRandom().nextLong()));
        transport = new TransportVerticle(ctx, forwardHandler);
        return deployOne(new StateMachineVerticle(ctx, config.dataDir().resolve("state.db"), storeOptions(config),
                        snapshotIndex, onApplied), ownThread("state-machine"))
                .compose(v -> deployOne(transport, new DeploymentOptions()))
                .compose(v -> deployOne(new ElectionVerticle(ctx, election), new DeploymentOptions()))
                .compose(v -> deployOne(new ReplicationVerticle(ctx, replication, logStore), ownThread("replication")))
                .onSuccess(v -> replicationDeployed = true)
                .onSuccess(v -> log.info("{} started: raft on {}:{}, data in {}", config.nodeId(), config.raftHost(),
                        transport.port(), config.dataDir()));
    }

    /**
     * A worker verticle on a thread of its own: its tasks (every proposal, message, apply) run on
     * one warm thread instead of hopping across the shared worker pool, and blocking reads on
     * that pool never delay them.
     */
    private DeploymentOptions ownThread(String role) {
        return new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)
                .setWorkerPoolName("cairn-" + config.nodeId() + "-" + role).setWorkerPoolSize(1);
    }

    private Future<Void> deployOne(io.vertx.core.Deployable verticle, DeploymentOptions options) {
        return vertx.deployVerticle(verticle, options).map(id -> {
            deployments.add(id);
            return null;
        });
    }

    /** Undeploys the verticles in reverse order and closes the files. */
    public Future<Void> stop() {
        Future<Void> chain = Future.succeededFuture();
        for (int i = deployments.size() - 1; i >= 0; i--) {
            String id = deployments.get(i);
            chain = chain.transform(ar -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
        }
        deployments.clear();
        // A deployed ReplicationVerticle closed the log on its own thread as it stopped.
        return chain.compose(v -> vertx.executeBlocking(() -> {
            DocumentStore s = ctx.swapStore(null);
            if (s != null) s.close();
            if (!replicationDeployed) logStore.close();
            return null;
        }));
    }

    // ------------------------------------------------------------------ for front ends

    public CairnConfig config() {
        return config;
    }

    /** The store limits in force, for validating requests before they are proposed. */
    public StoreOptions storeOptions() {
        return storeOptions;
    }

    public NodeState state() {
        return ctx.state();
    }

    public NodeMetrics metrics() {
        return ctx.metrics();
    }

    public long appliedIndex() {
        return ctx.applied().applied();
    }

    /** The bound peer port (the configured one unless it was 0). */
    public int raftPort() {
        return transport.port();
    }

    /** Set when this node stopped replicating after a storage fault. */
    public Throwable failure() {
        return ctx.failure();
    }

    /**
     * Proposes {@code command} on this node, which must be the leader; completes with the apply
     * result once the entry applied here. Fails with {@code no_leader} if this node is not the leader,
     * {@code timeout} after the write timeout (the write may still commit).
     */
    public Future<ApplyResult> propose(Command command) {
        byte[] data = CommandCodec.encode(command);
        Waiter<ApplyResult> w = Waiter.create(vertx, config.writeTimeoutMillis(),
                "the write was not confirmed within " + config.writeTimeoutMillis() + " ms; it may still commit");
        ctx.metrics().proposed();
        vertx.eventBus().send(Bus.replication(config.nodeId()), new Bus.Propose(data, w), LocalCodec.LOCAL);
        return w.future();
    }

    /**
     * The index a read must see: for {@code lease}, the leader's commit index under its lease (or a
     * ReadIndex round without one); for linearizable, the ReadIndex confirmed by a quorum.
     */
    public Future<Long> readBarrier(boolean lease) {
        Waiter<Long> w = Waiter.create(vertx, config.readTimeoutMillis(),
                "the read index was not confirmed within " + config.readTimeoutMillis() + " ms");
        vertx.eventBus().send(Bus.replication(config.nodeId()), new Bus.ReadBarrier(lease, w), LocalCodec.LOCAL);
        return w.future();
    }

    /** Completes once this node has applied {@code index}; fails with {@code timeout} after the read timeout. */
    public Future<Long> awaitApplied(long index) {
        return ctx.applied().await(index, config.readTimeoutMillis());
    }

    /** Whether this node applies {@code index} within {@code waitMillis} (false when the wait ran out). */
    public Future<Boolean> awaitAppliedWithin(long index, long waitMillis) {
        return ctx.applied().await(index, Math.max(1, waitMillis)).map(i -> true).recover(e -> Future.succeededFuture(false));
    }

    /** Runs a blocking read against the store on a worker thread. */
    public <T> Future<T> read(Function<DocumentStore, T> reader) {
        Callable<T> task = () -> reader.apply(ctx.store());
        return vertx.executeBlocking(task, false);
    }

    /** Forwards a request (JSON) to {@code leaderId} over the peer link; completes with its JSON answer. */
    public Future<byte[]> forward(String leaderId, byte[] json) {
        Waiter<byte[]> w = Waiter.create(vertx, config.writeTimeoutMillis(),
                "the leader did not answer the forwarded write within " + config.writeTimeoutMillis() + " ms; it may still commit");
        ctx.metrics().forwarded();
        vertx.eventBus().send(Bus.transport(config.nodeId()), new TransportVerticle.Forward(leaderId, json, w), LocalCodec.LOCAL);
        return w.future();
    }

    /** Proposes a membership change on the leader; completes with its index once applied. */
    public Future<Long> changeMembership(MembershipChange change) {
        Waiter<Long> w = Waiter.create(vertx, config.writeTimeoutMillis(), "the membership change was not confirmed in time");
        vertx.eventBus().send(Bus.replication(config.nodeId()), new Bus.ChangeMembership(change, w), LocalCodec.LOCAL);
        return w.future();
    }

    /** Asks the leader (this node) to hand leadership to {@code to}; completes once {@code to} leads. */
    public Future<Void> transferLeadership(String to) {
        Waiter<Void> w = Waiter.create(vertx, config.writeTimeoutMillis(), "leadership did not move in time");
        vertx.eventBus().send(Bus.replication(config.nodeId()), new Bus.TransferLeadership(to, w), LocalCodec.LOCAL);
        return w.future();
    }

    /** Tells the transport how to reach peers before the log says (a joining node's first contact). */
    public void learnPeers(java.util.Map<String, String> raftAddresses) {
        vertx.eventBus().send(Bus.transport(config.nodeId()), new Bus.KnownPeers(raftAddresses), LocalCodec.LOCAL);
    }

    /** Takes a snapshot now and compacts the log; completes with the index it covers. */
    public Future<Long> snapshot() {
        Waiter<Long> w = Waiter.create(vertx, 60_000, "the snapshot did not finish within 60 s");
        vertx.eventBus().send(Bus.stateMachine(config.nodeId()), new Bus.TakeSnapshot(w), LocalCodec.LOCAL);
        return w.future();
    }

}
