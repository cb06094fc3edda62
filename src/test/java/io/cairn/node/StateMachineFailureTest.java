package io.cairn.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import io.cairn.raft.Membership;
import io.cairn.raft.Role;
import io.cairn.raft.Status;
import io.cairn.store.Command;
import io.cairn.store.CommandCodec;
import io.cairn.store.DocumentStore;
import io.cairn.store.Op;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Found while building the disk-fault test (issue 7, DiskFaultIT), by reading what a full disk
 * does to each writer: when SQLite failed to apply a batch (disk full, I/O error) the state
 * machine threw out of its event-bus handler; the batch was lost, every later batch left a gap,
 * and the node went on taking part in Raft with an applied index that never moved again: as
 * leader, every write timed out (504) until someone restarted it. Now the node stops as it does
 * when a log write fails: {@code failure()} is set (writes answer 503 not_ready, /health/ready
 * says why), the replication stops ticking (another node leads), and nothing past the fault applies.
 */
class StateMachineFailureTest {
    @Test
    void aStoreThatFailsToApplyStopsTheNodeInsteadOfLeavingItStuck() throws Exception {
        Path dir = Files.createTempDirectory("cairn-sm-failure-");
        Vertx vertx = Vertx.vertx();
        try {
            CairnConfig config = ConfigLoader.load(Path.of("."), null, Map.of("CAIRN_NODE_ID", "n1", "CAIRN_DATA_DIR", dir.toString()));
            LocalCodec.register(vertx);
            Path db = dir.resolve("state.db");
            DocumentStore store = DocumentStore.open(db, CairnNode.storeOptions(config));
            Status status = new Status("n1", 1, Role.FOLLOWER, null, 0, 0, 0, 0, Membership.EMPTY, Map.of());
            NodeContext ctx = new NodeContext(vertx, config, new NodeState(status), store, new SnapshotFiles(dir));
            vertx.deployVerticle(new StateMachineVerticle(ctx, db, CairnNode.storeOptions(config), 0, applied -> { }),
                    new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).await(10, TimeUnit.SECONDS);
            byte[] put = CommandCodec.encode(Command.Txn.of(1, new Op.Put("c", "k", "{\"a\":1}", null)));

            vertx.eventBus().send(Bus.stateMachine("n1"), new Bus.Apply(List.of(new Entry(1, 1, EntryType.NORMAL, put))), LocalCodec.LOCAL);
            awaitTrue(() -> ctx.applied().applied() == 1);
            assertThat(ctx.failure()).isNull();

            store.close(); // the store fails from now on, as SQLite does on a full disk
            vertx.eventBus().send(Bus.stateMachine("n1"), new Bus.Apply(List.of(new Entry(2, 1, EntryType.NORMAL, put))), LocalCodec.LOCAL);
            awaitTrue(() -> ctx.failure() != null);
            assertThat(ctx.applied().applied()).isEqualTo(1);
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("timed out").isNegative();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }
}
