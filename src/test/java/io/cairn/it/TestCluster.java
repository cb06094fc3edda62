package io.cairn.it;

import io.cairn.Cairn;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * N real Cairn nodes in this JVM, each in its own Vert.x instance, talking real TCP on 127.0.0.1
 * with real SQLite files in a temp directory. Nodes can be stopped, restarted with their data, or
 * wiped. {@link #close()} stops everything and deletes every file it made.
 */
final class TestCluster implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(30);

    private final Path root;
    private final int size;
    private final Map<String, String> extraEnv;
    private final List<String> ids = new ArrayList<>();
    private final Map<String, int[]> ports = new HashMap<>();
    private final Map<String, Vertx> vertxes = new HashMap<>();
    private final Map<String, Cairn> nodes = new HashMap<>();
    private final Map<String, Map<String, String>> nodeEnv = new HashMap<>();
    private final Vertx clientVertx = Vertx.vertx();
    private final WebClient client = WebClient.create(clientVertx, new WebClientOptions().setKeepAlive(true));

    TestCluster(int size, Map<String, String> extraEnv) throws IOException {
        this.size = size;
        this.extraEnv = extraEnv;
        this.root = Files.createTempDirectory("cairn-it-");
        int[] free = io.cairn.Ports.free(2 * size);
        for (int i = 1; i <= size; i++) {
            String id = "n" + i;
            ids.add(id);
            ports.put(id, new int[] {free[2 * i - 2], free[2 * i - 1]});
        }
    }

    static TestCluster start(int size, Map<String, String> extraEnv) throws IOException {
        TestCluster c = new TestCluster(size, extraEnv);
        try {
            for (String id : c.ids) c.startAsync(id);
            for (String id : c.ids) c.awaitStarted(id);
            return c;
        } catch (RuntimeException e) {
            // a node that did not start must not leave the others running, or the temp directory
            try {
                c.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    List<String> ids() {
        return ids;
    }

    private CairnConfig config(String id) {
        Map<String, String> env = new HashMap<>();
        StringBuilder peers = new StringBuilder();
        for (String other : ids) {
            if (peers.length() > 0) peers.append(',');
            peers.append(other).append("=127.0.0.1:").append(ports.get(other)[1]).append(':').append(ports.get(other)[0]);
        }
        env.put("CAIRN_NODE_ID", id);
        env.put("CAIRN_HTTP_HOST", "127.0.0.1");
        env.put("CAIRN_RAFT_HOST", "127.0.0.1");
        env.put("CAIRN_HTTP_PORT", Integer.toString(ports.get(id)[0]));
        env.put("CAIRN_RAFT_PORT", Integer.toString(ports.get(id)[1]));
        env.put("CAIRN_DATA_DIR", dataDir(id).toString());
        env.put("CAIRN_PEERS", peers.toString());
        env.put("CAIRN_API_INSTANCES", "1");
        env.put("CAIRN_TICK_MS", "50");
        env.put("CAIRN_ELECTION_TICKS", "10");
        env.put("CAIRN_HEARTBEAT_TICKS", "1");
        env.put("CAIRN_WRITE_TIMEOUT_MS", "3000");
        env.put("CAIRN_READ_TIMEOUT_MS", "3000");
        env.putAll(extraEnv);
        env.putAll(nodeEnv.getOrDefault(id, Map.of()));
        return ConfigLoader.load(root, null, env);
    }

    Path dataDir(String id) {
        return root.resolve(id);
    }

    private final Map<String, io.vertx.core.Future<Cairn>> starting = new HashMap<>();

    private void startAsync(String id) {
        Vertx v = Vertx.vertx();
        vertxes.put(id, v);
        starting.put(id, Cairn.start(v, config(id)));
    }

    private void awaitStarted(String id) {
        try {
            nodes.put(id, starting.remove(id).await(60, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException("node " + id + " did not start: " + e.getMessage(), e);
        }
    }

    /**
     * Starts a new node that joins the running cluster through {@code via} (CAIRN_JOIN); it is not
     * among the initial peers.
     */
    String joinNode(String via) throws IOException {
        String id = "n" + (ports.size() + 1);
        ports.put(id, io.cairn.Ports.free(2));
        nodeEnv.put(id, Map.of("CAIRN_JOIN", "127.0.0.1:" + httpPort(via), "CAIRN_PEERS", ""));
        startNode(id);
        return id;
    }

    void startNode(String id) {
        startAsync(id);
        awaitStarted(id);
    }

    void stopNode(String id) {
        Cairn c = nodes.remove(id);
        Vertx v = vertxes.remove(id);
        try {
            if (c != null) c.stop().await(30, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the Vert.x instance is closed below either way
        }
        if (v != null) {
            try {
                v.close().await(30, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // a node that will not close cleanly still loses its threads
            }
        }
    }

    void wipe(String id) throws IOException {
        deleteTree(dataDir(id));
    }

    boolean isUp(String id) {
        return nodes.containsKey(id);
    }

    Cairn node(String id) {
        return nodes.get(id);
    }

    int httpPort(String id) {
        return ports.get(id)[0];
    }

    /** The id of the node all running nodes agree is leader, waiting up to {@link #WAIT}. */
    String awaitLeader() {
        String[] found = new String[1];
        awaitTrue("a leader that every running node knows", () -> {
            String leader = null;
            for (String id : nodes.keySet()) {
                var l = nodes.get(id).node().state().leaderId();
                if (l.isEmpty() || !nodes.containsKey(l.get())) return false;
                if (leader != null && !leader.equals(l.get())) return false;
                leader = l.get();
            }
            found[0] = leader;
            return leader != null;
        });
        return found[0];
    }

    String follower() {
        String leader = awaitLeader();
        return nodes.keySet().stream().filter(id -> !id.equals(leader)).sorted().findFirst().orElseThrow();
    }

    /** Ids of the running nodes. */
    java.util.Set<String> running() {
        return java.util.Set.copyOf(nodes.keySet());
    }

    static void awaitTrue(String what, BooleanSupplier condition) {
        io.cairn.Await.until(what, WAIT, condition);
    }

    /** Sends a request to node {@code id}; body may be null. Headers as name, value pairs. */
    HttpResponse<Buffer> call(String id, HttpMethod method, String path, String body, String... headers) {
        HttpRequest<Buffer> req = client.request(method, httpPort(id), "127.0.0.1", path).timeout(20_000);
        if (body != null) req.putHeader("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) req.putHeader(headers[i], headers[i + 1]);
        try {
            return (body == null ? req.send() : req.sendBuffer(Buffer.buffer(body))).await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " on " + id + " failed: " + e, e);
        }
    }

    static JsonObject json(HttpResponse<Buffer> r) {
        return new JsonObject(r.bodyAsString());
    }

    static String errorCode(HttpResponse<Buffer> r) {
        return json(r).getJsonObject("error").getString("code");
    }

    @Override
    public void close() throws IOException {
        // every Vert.x instance, including those of nodes that failed to start
        for (String id : new ArrayList<>(vertxes.keySet())) stopNode(id);
        try {
            clientVertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // nothing left to release
        }
        deleteTree(root);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }

    int size() {
        return size;
    }
}
