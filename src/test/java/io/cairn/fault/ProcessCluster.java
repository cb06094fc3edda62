package io.cairn.fault;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * N Cairn nodes as separate {@code java -jar target/cairn.jar} processes on 127.0.0.1, with a
 * {@link FaultProxy} in front of every raft port, temp data directories, and the faults of a real
 * machine: {@code kill -9}, SIGSTOP/SIGCONT, restart on the same data, a wiped data directory.
 *
 * <p><b>Links.</b> One proxy in front of each node's raft port, and every node's
 * {@code CAIRN_PEERS} lists every node, itself included, at its proxy: all nodes have the same
 * addresses, so a membership entry or a snapshot written on one node and read on another changes
 * nothing. A proxy tells its senders apart by the node id of the hello frame each connection opens
 * with ({@link FaultProxy#CAIRN_HELLO}); Cairn dials one outbound connection per peer and sends on
 * it only (transport DESIGN.md), so the rule "{@code from} → {@code to}" on {@code to}'s proxy
 * carries exactly the messages from {@code from} to {@code to}: dropping it is a one-way partition,
 * dropping both directions of a pair cuts the pair, and any partition of the nodes into sides is
 * a set of such rules. A node that joins later advertises its real raft port (it knows no other)
 * and is reached directly; {@link #partition} refuses to run while {@link #linksAsConfigured()}
 * reports such a bypass. Client HTTP ports are not proxied.
 *
 * <p><b>Cleanup.</b> {@link #close()} kills every process it started (stopped ones too), closes
 * the proxies and deletes the temp directory; a JVM shutdown hook does the same if the test
 * never gets there. Logs: {@code <tmp>/<id>.log} (stdout and stderr, appended across restarts).
 *
 * <p>Methods are for the test thread (they block); faults scheduled on timers should go through
 * an executor thread, not an event loop.
 */
public final class ProcessCluster implements AutoCloseable, FaultSchedule.Target {
    /** Settings; defaults suit 3 nodes on 2 cores. */
    public static final class Options {
        int nodes = 3;
        Path jar = Path.of("target", "cairn.jar");
        List<String> jvmArgs = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
        Map<String, String> env = new LinkedHashMap<>();
        Function<Node, List<String>> command;
        java.util.function.Consumer<Node> prepare = n -> { };
        java.util.function.Consumer<Node> release = n -> { };

        public Options nodes(int n) {
            if (n < 1 || n > 9) throw new IllegalArgumentException("1..9 nodes");
            nodes = n;
            return this;
        }

        public Options jar(Path path) {
            jar = Objects.requireNonNull(path);
            return this;
        }

        public Options jvmArgs(List<String> args) {
            jvmArgs = List.copyOf(args);
            return this;
        }

        /** An extra environment variable for every node (e.g. {@code CAIRN_HISTORY_RETAIN}). */
        public Options env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /**
         * Runs for each node once its data directory exists and before its first start (to mount a
         * small filesystem on it, say); {@code release} runs at {@link #close()} once every process
         * is gone and before the directory is deleted (to unmount it).
         */
        public Options dataDirs(java.util.function.Consumer<Node> prepare, java.util.function.Consumer<Node> release) {
            this.prepare = Objects.requireNonNull(prepare);
            this.release = Objects.requireNonNull(release);
            return this;
        }

        /** Replaces {@code java <jvmArgs> -jar <jar>}: for the harness's own tests. */
        public Options command(Function<Node, List<String>> command) {
            this.command = command;
            return this;
        }
    }

    public static Options options() {
        return new Options();
    }

    /** One node: fixed ports and directory for the cluster's life; the process comes and goes. */
    public static final class Node {
        private final String id;
        private final int httpPort;
        private final int raftPort;
        private final Path dataDir;
        private final Path log;
        private volatile Process process;
        private volatile boolean stopped;
        private final Map<String, String> env = new java.util.concurrent.ConcurrentHashMap<>();
        private int starts;

        Node(String id, int httpPort, int raftPort, Path dataDir, Path log) {
            this.id = id;
            this.httpPort = httpPort;
            this.raftPort = raftPort;
            this.dataDir = dataDir;
            this.log = log;
        }

        public String id() {
            return id;
        }

        public int httpPort() {
            return httpPort;
        }

        public int raftPort() {
            return raftPort;
        }

        public String httpAddress() {
            return "127.0.0.1:" + httpPort;
        }

        public URI uri(String pathAndQuery) {
            return URI.create("http://127.0.0.1:" + httpPort + pathAndQuery);
        }

        public Path dataDir() {
            return dataDir;
        }

        public Path log() {
            return log;
        }

        /** The process id, or -1 when it is not running. */
        public long pid() {
            Process p = process;
            return p != null && p.isAlive() ? p.pid() : -1;
        }

        public boolean running() {
            Process p = process;
            return p != null && p.isAlive();
        }

        /** Running and not SIGSTOPped: expected to answer. */
        public boolean serving() {
            return running() && !stopped;
        }

        public int starts() {
            return starts;
        }

        @Override
        public String toString() {
            return id + "(http " + httpPort + ", raft " + raftPort + (running() ? ", pid " + pid() : ", down") + (stopped ? ", STOPPED" : "") + ")";
        }
    }

    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(2);

    private final Options options;
    private final Path root;
    private final Vertx vertx;
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final Map<String, FaultProxy> proxies = new LinkedHashMap<>(); // by the node it leads to
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
    private final Thread shutdownHook;
    private volatile boolean closed;

    private ProcessCluster(Options options, Path root) {
        this.options = options;
        this.root = root;
        this.vertx = Vertx.vertx();
        this.shutdownHook = new Thread(this::destroyQuietly, "process-cluster-cleanup");
    }

    /**
     * Starts the cluster (does not wait for it: see {@link #awaitLeader}). Skips the test, via a
     * JUnit assumption, when the jar is missing and no other command was given.
     */
    public static ProcessCluster start(Options options) {
        if (options.command == null) {
            Assumptions.assumeTrue(Files.isRegularFile(options.jar), options.jar.toAbsolutePath()
                    + " is missing: the fault tests need the running node (mvn -B -q package -DskipTests)");
        }
        Path root;
        try {
            root = Files.createTempDirectory("cairn-fault-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessCluster cluster = new ProcessCluster(options, root);
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            cluster.create();
            for (Node n : cluster.nodes.values()) options.prepare.accept(n);
            for (Node n : cluster.nodes.values()) cluster.launch(n);
            return cluster;
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    /**
     * Skips the calling test unless {@code jar} exists and is a node that can cluster: its
     * {@code --help} lists {@code CAIRN_PEERS} (API.md: "--help lists every setting"). Until the
     * running node lands, the jar is a stub and the end-to-end fault tests skip.
     */
    public static void assumeClusterableNode(Path jar) {
        Assumptions.assumeTrue(Files.isRegularFile(jar), jar.toAbsolutePath() + " is missing: the fault tests need the running node");
        String help;
        try {
            Process p = new ProcessBuilder(javaBinary(), "-jar", jar.toString(), "--help").redirectErrorStream(true).start();
            help = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Assumptions.assumeTrue(help.contains("CAIRN_PEERS"), "java -jar " + jar + " --help does not list CAIRN_PEERS: not a clustering node yet");
    }

    private void create() {
        int[] ports = io.cairn.Ports.free(2 * options.nodes);
        for (int i = 0; i < options.nodes; i++) {
            String id = "n" + (i + 1);
            Path dir = root.resolve(id);
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            nodes.put(id, new Node(id, ports[2 * i], ports[2 * i + 1], dir, root.resolve(id + ".log")));
        }
        for (Node to : nodes.values()) {
            try {
                proxies.put(to.id, FaultProxy.start(vertx, "->" + to.id, "127.0.0.1", to.raftPort, FaultProxy.CAIRN_HELLO)
                        .await(10, TimeUnit.SECONDS));
            } catch (Exception e) {
                throw new IllegalStateException("starting the proxy to " + to.id, e);
            }
        }
    }


    /** {@code CAIRN_PEERS}, the same for every node: each node at the port of its proxy. */
    String peers() {
        return nodes.values().stream()
                .map(n -> n.id + "=127.0.0.1:" + proxy(n.id).port() + ":" + n.httpPort)
                .collect(Collectors.joining(","));
    }

    Map<String, String> envFor(Node n) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CAIRN_NODE_ID", n.id);
        env.put("CAIRN_HTTP_HOST", "127.0.0.1");
        env.put("CAIRN_HTTP_PORT", Integer.toString(n.httpPort));
        env.put("CAIRN_RAFT_HOST", "127.0.0.1");
        env.put("CAIRN_RAFT_PORT", Integer.toString(n.raftPort));
        env.put("CAIRN_ADVERTISE_HOST", "127.0.0.1");
        env.put("CAIRN_DATA_DIR", n.dataDir.toString());
        env.put("CAIRN_PEERS", peers());
        env.putAll(options.env);
        env.putAll(n.env);
        return env;
    }

    private synchronized void launch(Node n) {
        if (closed) throw new IllegalStateException("cluster closed");
        if (n.running()) throw new IllegalStateException(n.id + " is already running");
        List<String> command = options.command != null ? options.command.apply(n) : defaultCommand();
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(n.log.toFile()));
        pb.environment().putAll(envFor(n));
        try {
            Files.writeString(n.log, "=== harness: start #" + (n.starts + 1) + " of " + n.id + " at " + Instant.now() + ": "
                    + String.join(" ", command) + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            n.process = pb.start();
            n.stopped = false;
            n.starts++;
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + n.id, e);
        }
    }

    /**
     * {@code java <jvmArgs> -jar <tmp>/node.jar}, where {@code node.jar} links to the jar under
     * test. The command line never says {@code cairn.jar}: on a shared machine another test run's
     * {@code pkill -f cairn.jar} (seen here) would otherwise stop this cluster's nodes in the
     * middle of a run. This cluster ends its own processes, by pid.
     */
    private List<String> defaultCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.addAll(options.jvmArgs);
        cmd.add("-jar");
        cmd.add(linkedJar().toString());
        return cmd;
    }

    private synchronized Path linkedJar() {
        Path link = root.resolve("node.jar");
        if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createSymbolicLink(link, options.jar.toAbsolutePath());
            } catch (IOException | UnsupportedOperationException e) {
                return options.jar.toAbsolutePath();
            }
        }
        return link;
    }

    public static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    // ---- access

    public Node node(String id) {
        Node n = nodes.get(id);
        if (n == null) throw new IllegalArgumentException("no node " + id + " in " + nodes.keySet());
        return n;
    }

    public List<Node> nodes() {
        return List.copyOf(nodes.values());
    }

    @Override
    public List<String> ids() {
        return List.copyOf(nodes.keySet());
    }

    /** The proxy in front of node {@code to}'s raft port (it tells senders apart by their hello). */
    public FaultProxy proxy(String to) {
        FaultProxy p = proxies.get(to);
        if (p == null) throw new IllegalArgumentException("no proxy to " + to);
        return p;
    }

    /** The mode of the link that carries {@code from}'s messages to {@code to}. */
    public FaultProxy.Mode link(String from, String to) {
        node(from);
        return proxy(to).mode(from);
    }

    public Collection<FaultProxy> proxies() {
        return List.copyOf(proxies.values());
    }

    public Path root() {
        return root;
    }

    // ---- process faults

    /** {@code kill -9}: no shutdown hook, no flush; waits until the process is gone. */
    @Override
    public void kill(String id) {
        Node n = node(id);
        Process p = n.process;
        if (p == null) return;
        p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) throw new IllegalStateException(id + " survived kill -9");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        n.stopped = false;
    }

    /** SIGSTOP: the process freezes (timers, sockets, disk) but its sockets stay open. */
    @Override
    public void pause(String id) {
        signal(node(id), "STOP");
        node(id).stopped = true;
    }

    /** SIGCONT after {@link #pause}. */
    @Override
    public void resume(String id) {
        signal(node(id), "CONT");
        node(id).stopped = false;
    }

    private static void signal(Node n, String signal) {
        long pid = n.pid();
        if (pid < 0) throw new IllegalStateException(n.id + " is not running");
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * SIGTERM: Cairn stops gracefully (a leader hands leadership off, HTTP drains); waits until the
     * process has exited (kill -9 after 30 s, which fails the test as a hung stop).
     */
    @Override
    public void terminate(String id) {
        Node n = node(id);
        Process p = n.process;
        if (p == null || !p.isAlive()) return;
        signal(n, "TERM");
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                kill(id);
                throw new AssertionError(id + " did not stop within 30 s of SIGTERM; log tail:\n" + tail(id, 40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        n.stopped = false;
    }

    private final java.util.concurrent.atomic.AtomicInteger snapshotCrashesDuring = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger snapshotCrashesAfter = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * A crash at a snapshot. On a follower: {@code POST /v1/snapshot} (state.db synced, the log
     * compacted) and {@code kill -9} right after the answer. On the leader, in the middle of the
     * copy of state.db it makes for a follower: a follower is killed, the leader's log compacted
     * past it (once the leader applied {@value #ENTRIES_PAST} more entries, or after 5 s), the
     * follower restarted, and the leader killed as soon as the copy's temp file appears in its
     * {@code <data>/snapshots} (or after 10 s, counted "after"). Counted in {@link #snapshotCrashes()}.
     */
    @Override
    public void killDuringSnapshot(String id) {
        Node n = node(id);
        if (!n.serving()) return;
        String follower = id.equals(leaderSeenBy(id))
                ? nodes.values().stream().filter(o -> o != n && o.serving()).map(o -> o.id).findFirst().orElse(null) : null;
        if (follower == null) {
            snapshotAndKill(n);
            return;
        }
        kill(follower);
        long from = appliedIndex(id);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (appliedIndex(id) < from + ENTRIES_PAST && System.nanoTime() - deadline < 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        try {
            http.send(snapshotRequest(n), HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // no answer: the follower may still need a snapshot; go on
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        restart(follower);
        boolean during = awaitTakingSnapshot(n.dataDir.resolve("snapshots"), Duration.ofSeconds(10), null);
        kill(id);
        (during ? snapshotCrashesDuring : snapshotCrashesAfter).incrementAndGet();
    }

    static final int ENTRIES_PAST = 50;

    private static HttpRequest snapshotRequest(Node n) {
        return HttpRequest.newBuilder(n.uri("/v1/snapshot")).timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build();
    }

    private void snapshotAndKill(Node n) {
        var answer = http.sendAsync(snapshotRequest(n), HttpResponse.BodyHandlers.discarding());
        boolean during = awaitTakingSnapshot(n.dataDir.resolve("snapshots"), Duration.ofSeconds(10), answer);
        kill(n.id);
        (during ? snapshotCrashesDuring : snapshotCrashesAfter).incrementAndGet();
    }

    /** Waits for a snapshot temp file (true), the answer (if any) or the deadline (false). */
    private static boolean awaitTakingSnapshot(Path dir, Duration timeout, java.util.concurrent.Future<?> answer) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((answer == null || !answer.isDone()) && System.nanoTime() - deadline < 0) {
            if (takingSnapshot(dir)) return true;
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        return false;
    }

    /** The applied index a node reports in {@code GET /v1/cluster}, or -1. */
    long appliedIndex(String id) {
        JsonObject c = clusterView(id);
        return c == null ? -1 : c.getLong("appliedIndex", -1L);
    }

    /** A node's {@code GET /v1/cluster} answer, or null when it gives no readable 200. */
    private JsonObject clusterView(String id) {
        HttpResponse<String> r = get(id, "/v1/cluster");
        if (r == null || r.statusCode() != 200) return null;
        try {
            return new JsonObject(r.body());
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static boolean takingSnapshot(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().startsWith("taking-"));
        } catch (IOException e) {
            return false;
        }
    }

    /** Snapshot crashes so far: {@code [in the middle of the backup, right after it]}. */
    public int[] snapshotCrashes() {
        return new int[] {snapshotCrashesDuring.get(), snapshotCrashesAfter.get()};
    }

    /**
     * Sets (value non-null) or removes an environment variable of one node for its next starts,
     * over the cluster's own (e.g. {@code CAIRN_JOIN} for a node that comes back with a new data directory).
     */
    public void setEnv(String id, String name, String value) {
        Node n = node(id);
        if (value == null) n.env.remove(name);
        else n.env.put(name, value);
    }

    /** Starts a node that is down again, same ports, environment and data directory. */
    @Override
    public void restart(String id) {
        launch(node(id));
    }

    /** {@link #kill} then {@link #restart}. */
    public void killAndRestart(String id) {
        kill(id);
        restart(id);
    }

    /** Deletes everything in a node's data directory; the node must be down. */
    public void wipe(String id) {
        Node n = node(id);
        if (n.running()) throw new IllegalStateException("wipe " + id + " while it runs");
        deleteTree(n.dataDir);
        try {
            Files.createDirectories(n.dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- network faults (all through the proxies; each call waits until the proxies applied it)

    /**
     * Cuts every link between the two sides, both directions; links inside a side are untouched.
     * Fails, cutting nothing, when a node reaches a peer other than through its proxy.
     */
    @Override
    public void partition(Set<String> side) {
        assertLinksThroughProxies();
        for (String to : nodes.keySet()) {
            for (String from : nodes.keySet()) {
                if (side.contains(from) != side.contains(to)) await(proxy(to).setMode(from, FaultProxy.Mode.DROP_ALL));
            }
        }
    }

    /** Cuts one node from all others, both directions. */
    public void isolate(String id) {
        partition(Set.of(node(id).id));
    }

    /** Messages from {@code from} to {@code to} are lost; the other direction passes. */
    @Override
    public void cutOneWay(String from, String to) {
        assertLinksThroughProxies();
        node(from);
        await(proxy(to).setMode(from, FaultProxy.Mode.DROP_ALL));
    }

    /** A network fault would not be the one asked for if a link bypasses the proxies. */
    private void assertLinksThroughProxies() {
        List<String> bypass = linksAsConfigured().stream().filter(p -> !p.endsWith(NO_ANSWER)).toList();
        if (!bypass.isEmpty()) throw new IllegalStateException("links bypass the proxies, a partition would leak: " + bypass);
    }

    /** Every link passes again, with no delay. */
    @Override
    public void heal() {
        for (FaultProxy p : proxies.values()) {
            p.delay(Duration.ZERO);
            await(p.pass());
        }
    }

    /** Drops every open connection on every link (both ends see a reset); later connections pass as before. */
    @Override
    public void resetLinks() {
        for (FaultProxy p : proxies.values()) await(p.resetConnections());
    }

    /** Adds {@code delay} to every link, both directions of each connection. */
    @Override
    public void delayAll(Duration delay) {
        for (FaultProxy p : proxies.values()) p.delay(delay);
    }

    private static void await(io.vertx.core.Future<Void> f) {
        try {
            f.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- waiting

    /** GET on a node; the status and body, or null when it does not answer in time. */
    public HttpResponse<String> get(String id, String pathAndQuery) {
        try {
            HttpRequest req = HttpRequest.newBuilder(node(id).uri(pathAndQuery)).timeout(HTTP_TIMEOUT).GET().build();
            return http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Fails at once, with the log's tail, if a node that should run has exited. */
    public void assertRunning(String id) {
        Node n = node(id);
        Process p = n.process;
        if (p != null && !p.isAlive()) {
            throw new AssertionError(id + " exited with code " + p.exitValue() + "; log tail:\n" + tail(id, 40));
        }
    }

    /** Waits until {@code GET /health/ready} answers 200 on the node. */
    public void awaitReady(String id, Duration timeout) {
        Await.until(id + " ready", timeout, () -> {
            assertRunning(id);
            HttpResponse<String> r = get(id, "/health/ready");
            return r != null && r.statusCode() == 200;
        }, () -> describe(id, "/health/ready"));
    }

    /** Waits until every serving node is ready. */
    public void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Node n : nodes.values()) {
            if (n.serving()) awaitReady(n.id, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        }
    }

    /**
     * Waits until every serving node answers {@code GET /v1/cluster} with the same leader, itself
     * serving, and answers it.
     */
    public Node awaitLeader(Duration timeout) {
        String[] leader = new String[1];
        Await.until("one leader that every serving node agrees on", timeout, () -> {
            Set<String> seen = new HashSet<>();
            for (Node n : nodes.values()) {
                if (!n.serving()) continue;
                assertRunning(n.id);
                String l = leaderSeenBy(n.id);
                if (l == null) return false;
                seen.add(l);
            }
            if (seen.size() != 1) return false;
            leader[0] = seen.iterator().next();
            return nodes.containsKey(leader[0]) && nodes.get(leader[0]).serving();
        }, () -> nodes.values().stream().filter(Node::serving).map(n -> n.id + " sees " + viewOf(n.id))
                .collect(Collectors.joining(", ")));
        return node(leader[0]);
    }

    /** The leader most serving nodes report right now (no waiting), or null. */
    @Override
    public String leader() {
        Map<String, Integer> votes = new HashMap<>();
        for (Node n : nodes.values()) {
            if (!n.serving()) continue;
            String l = leaderSeenBy(n.id);
            if (l != null) votes.merge(l, 1, Integer::sum);
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
    }

    /** What a node reports in {@code GET /v1/cluster}, for failure messages: leader, term, members. */
    String viewOf(String id) {
        JsonObject c = clusterView(id);
        if (c == null) return "no answer";
        try {
            JsonObject leader = c.getJsonObject("leader");
            String members = c.getJsonArray("members").stream().map(m -> (JsonObject) m)
                    .map(m -> m.getString("id") + (m.getBoolean("voter", false) ? "" : "(learner)"))
                    .collect(Collectors.joining(","));
            return (leader == null ? "no leader" : leader.getString("id")) + " in term " + c.getLong("term")
                    + ", members " + members + ", applied " + c.getLong("appliedIndex");
        } catch (RuntimeException e) {
            return "unreadable /v1/cluster: " + e;
        }
    }

    /** The leader id a node reports in {@code GET /v1/cluster}, or null. */
    public String leaderSeenBy(String id) {
        JsonObject c = clusterView(id);
        JsonObject leader = c == null ? null : c.getJsonObject("leader");
        return leader == null ? null : leader.getString("id");
    }

    private static final String NO_ANSWER = ": no /v1/cluster answer";

    /**
     * For each serving node, the raft addresses of members in {@code GET /v1/cluster} that are not
     * their proxies: empty when every link goes through the proxies.
     */
    public List<String> linksAsConfigured() {
        List<String> problems = new ArrayList<>();
        for (Node n : nodes.values()) {
            if (!n.serving()) continue;
            JsonObject c = clusterView(n.id);
            if (c == null) {
                problems.add(n.id + NO_ANSWER);
                continue;
            }
            Map<String, String> want = new HashMap<>();
            for (Node other : nodes.values()) want.put(other.id, "127.0.0.1:" + proxy(other.id).port());
            for (Object o : c.getJsonArray("members", new io.vertx.core.json.JsonArray())) {
                JsonObject m = (JsonObject) o;
                String expected = want.get(m.getString("id"));
                if (expected != null && !expected.equals(m.getString("raftAddress"))) {
                    problems.add(n.id + " reaches " + m.getString("id") + " at " + m.getString("raftAddress") + ", not " + expected);
                }
            }
        }
        return problems;
    }

    private String describe(String id, String path) {
        HttpResponse<String> r = get(id, path);
        return r == null ? "no answer" : r.statusCode() + " " + r.body();
    }

    /** The last lines of a node's log. */
    public String tail(String id, int lines) {
        try {
            List<String> all = Files.readAllLines(node(id).log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    // ---- cleanup

    /** Copies every node's log into {@code dest} (for a failing test to keep them). */
    public void saveLogs(Path dest) {
        try {
            Files.createDirectories(dest);
            for (Node n : nodes.values()) {
                if (Files.exists(n.log)) Files.copy(n.log, dest.resolve(n.log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Kills every process, closes every proxy, deletes the temp directory (kept, and its path
     * printed, when the system property {@code cairn.fault.keep} is {@code true}). Idempotent.
     */
    @Override
    public void close() {
        destroyQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down: the hook runs anyway
        }
    }

    private synchronized void destroyQuietly() {
        if (closed) return;
        closed = true;
        for (Node n : nodes.values()) {
            Process p = n.process;
            if (p == null) continue;
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly(); // SIGKILL ends a SIGSTOPped process too
        }
        for (Node n : nodes.values()) {
            Process p = n.process;
            if (p == null) continue;
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (FaultProxy p : proxies.values()) {
            try {
                p.close().await(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // best effort: the Vert.x instance closes below
            }
        }
        try {
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // best effort
        }
        for (Node n : nodes.values()) {
            try {
                options.release.accept(n);
            } catch (RuntimeException e) {
                System.err.println("releasing " + n.id + "'s data directory: " + e);
            }
        }
        if (Boolean.getBoolean("cairn.fault.keep")) {
            System.err.println("cairn.fault.keep: leaving " + root);
        } else {
            deleteTree(root);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + dir, e);
        }
    }
}
