package io.cairn.bench;

import io.cairn.Cairn;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 6's benchmark, not a test (Surefire skips {@code *Benchmark}): N WebSocket subscribers on
 * one node while writes commit at a fixed rate; prints the lag from a write's send to its receipt
 * by every subscriber (an upper bound of commit-to-receipt), p50/p99, and the node's CPU and heap.
^ * Run after {@code mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=cp.txt}:
 * {@code java -cp target/classes:target/test-classes:$(cat cp.txt) io.cairn.bench.ChangeStreamBenchmark 1000 1000 10}.
 */
public final class ChangeStreamBenchmark {
    public static void main(String[] args) throws Exception {
        int subscribers = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        Path dir = Files.createTempDirectory("cairn-csb-");
        Vertx server = Vertx.vertx();
        Vertx clients = Vertx.vertx();
        try {
            var config = ConfigLoader.load(dir, null, Map.of("CAIRN_DATA_DIR", dir.resolve("d").toString(),
                    "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_RAFT_PORT", "0"));
            Cairn cairn = Cairn.start(server, config).await(60, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!cairn.node().state().isLeader() && System.nanoTime() < deadline) Thread.onSpinWait();
            int port = cairn.httpPort();

            LatencyHistogram lag = new LatencyHistogram();
            AtomicLong received = new AtomicLong();
            WebSocketClient ws = clients.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(subscribers + 10));
            for (int i = 0; i < subscribers; i++) {
                ws.connect(port, "127.0.0.1", "/v1/changes?collection=bench").onSuccess(socket -> socket.textMessageHandler(t -> {
                    long now = System.nanoTime();
                    JsonObject c = new JsonObject(t);
                    if (!"change".equals(c.getString("type"))) return;
                    long sent = c.getJsonObject("doc").getLong("sentNanos");
                    synchronized (lag) {
                        lag.record(now - sent);
                    }
                    received.incrementAndGet();
                })).await(30, TimeUnit.SECONDS);
            }
            HttpClient http = clients.createHttpClient(new HttpClientOptions().setKeepAlive(true), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(64));
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long cpuBefore = os.getProcessCpuTime();
            long started = System.nanoTime();
            long writes = (long) rate * seconds;
            AtomicLong acked = new AtomicLong();
            for (long i = 0; i < writes; i++) {
                long due = started + i * 1_000_000_000L / rate;
                while (System.nanoTime() < due) Thread.onSpinWait();
                String body = new JsonObject().put("sentNanos", System.nanoTime()).put("i", i).encode();
                http.request(HttpMethod.PUT, port, "127.0.0.1", "/v1/collections/bench/docs/k" + (i % 1000))
                        .compose(req -> req.putHeader("Content-Type", "application/json").send(Buffer.buffer(body)))
                        .onSuccess(resp -> acked.incrementAndGet());
            }
            long expected = writes * subscribers;
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received.get() < expected && System.nanoTime() < waitUntil) Thread.onSpinWait();
            double elapsed = (System.nanoTime() - started) / 1e9;
            double cpu = (os.getProcessCpuTime() - cpuBefore) / 1e9;
            System.gc();
            long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            synchronized (lag) {
                System.out.printf("change streams: %d subscribers, %d writes at %d/s (%d acknowledged), %d of %d deliveries in %.1f s%n",
                        subscribers, writes, rate, acked.get(), received.get(), expected, elapsed);
                System.out.printf("lag send->receipt ms: p50 %.2f  p99 %.2f  max %.2f%n", lag.valueAtPercentile(50) / 1e6,
                        lag.valueAtPercentile(99) / 1e6, lag.max() / 1e6);
            }
            System.out.printf("process (node + clients): CPU %.1f s over %.1f s = %.0f%% of one core; heap after GC %d MiB%n",
                    cpu, elapsed, 100 * cpu / elapsed, heap >> 20);
            cairn.stop().await(30, TimeUnit.SECONDS);
        } finally {
            clients.close().await(30, TimeUnit.SECONDS);
            server.close().await(30, TimeUnit.SECONDS);
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
