package io.cairn.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.Await;
import io.cairn.Cairn;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A subscriber that stops reading while 100,000 changes commit: the server stops reading history
 * for it instead of buffering, and once it reads again it gets every change, in order, once.
 */
class SlowSubscriberTest {
    private static final int TXNS = 100;
    private static final int OPS_PER_TXN = 1000;

    @TempDir Path dir;

    @Test
    void pausedSubscriberCatchesUpFromHistoryWithBoundedServerMemory() throws Exception {
        Vertx server = Vertx.vertx();
        Vertx clients = Vertx.vertx();
        try {
            var config = ConfigLoader.load(dir, null, Map.of("CAIRN_DATA_DIR", dir.resolve("d").toString(),
                    "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_RAFT_PORT", "0",
                    "CAIRN_API_INSTANCES", "1", "CAIRN_WRITE_TIMEOUT_MS", "60000"));
            Cairn cairn = Cairn.start(server, config).await(60, TimeUnit.SECONDS);
            Await.until("leadership", () -> cairn.node().state().isLeader());
            int port = cairn.httpPort();
            WebClient http = WebClient.create(clients);

            AtomicLong received = new AtomicLong();
            AtomicLong lastRev = new AtomicLong();
            AtomicLong lastSeq = new AtomicLong(-1);
            AtomicLong disorder = new AtomicLong();
            WebSocket ws = clients.createWebSocketClient().connect(port, "127.0.0.1", "/v1/changes?collection=slow")
                    .onSuccess(socket -> {
                        socket.pause();
                        socket.textMessageHandler(text -> {
                            JsonObject c = new JsonObject(text);
                            if (!c.getString("type").equals("change")) return;
                            long rev = c.getLong("rev");
                            long seq = Long.parseLong(c.getString("key").substring(1));
                            if (rev < lastRev.get() || seq != lastSeq.get() + 1) disorder.incrementAndGet();
                            lastRev.set(rev);
                            lastSeq.set(seq);
                            received.incrementAndGet();
                        });
                    })
                    .await(10, TimeUnit.SECONDS);

            long heapBefore = usedHeapAfterGc();
            long peakHeap = heapBefore;
            for (int t = 0; t < TXNS; t++) {
                JsonArray ops = new JsonArray();
                for (int i = 0; i < OPS_PER_TXN; i++) {
                    long seq = (long) t * OPS_PER_TXN + i;
                    ops.add(new JsonObject().put("op", "put").put("collection", "slow").put("key", String.format("k%07d", seq))
                            .put("doc", new JsonObject().put("seq", seq).put("pad", "x".repeat(64))));
                }
                HttpResponse<Buffer> r;
                try {
                    r = http.post(port, "127.0.0.1", "/v1/txn").putHeader("Content-Type", "application/json")
                            .sendBuffer(Buffer.buffer(new JsonObject().put("ops", ops).encode())).await(120, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new AssertionError("txn " + t + " failed", e);
                }
                assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
                if (t % 20 == 19) peakHeap = Math.max(peakHeap, usedHeapAfterGc());
            }
            long pausedReceived = received.get();
            long heapAfterWrites = usedHeapAfterGc();
            ws.resume();
            long total = (long) TXNS * OPS_PER_TXN;
            Await.until("all " + total + " changes", Duration.ofSeconds(180), () -> received.get() >= total);
            assertThat(received.get()).isEqualTo(total);
            assertThat(disorder.get()).isZero();
            System.out.printf("slow subscriber: %d changes; %d arrived while paused (socket buffers); JVM heap used after GC:"
                    + " %d MiB before, peak %d MiB during writes, %d MiB after (server and client share this JVM)%n",
                    total, pausedReceived, heapBefore >> 20, peakHeap >> 20, heapAfterWrites >> 20);
            // Had the server queued the backlog for this client, the heap would hold ~20 MB of frames.
            assertThat(heapAfterWrites - heapBefore).isLessThan(64L << 20);
            ws.close().await(10, TimeUnit.SECONDS);
            cairn.stop().await(30, TimeUnit.SECONDS);
        } finally {
            clients.close().await(30, TimeUnit.SECONDS);
            server.close().await(30, TimeUnit.SECONDS);
        }
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
