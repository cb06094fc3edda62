package io.cairn.k8s;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
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
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A StatefulSet played on one machine: pods {@code <sts>-<i>} are {@code java -jar target/cairn.jar}
 * processes that receive exactly the environment of the StatefulSet in {@code k8s/} (parsed from the
 * YAML, downward-API values substituted), the container's args with the ConfigMap file, an empty
 * working directory, and nothing of the test JVM's environment. What a cluster gives through mounts
 * and networking is mapped, and only that:
 * <ul>
 *   <li>the PersistentVolumeClaim of each pod → a directory kept across its restarts
 *       ({@code CAIRN_DATA_DIR}); the ConfigMap → a copy of {@code k8s/cairn.json}; {@code /tmp} →
 *       a directory per pod ({@code -Djava.io.tmpdir});</li>
 *   <li>the pods' DNS names under the headless Service → 127.0.0.1 through a hosts file
 *       ({@code -Djdk.net.hosts.file}, {@code -Dvertx.disableDnsResolver=true}); one IP for all
 *       pods, so pod {@code i} listens on the manifest's ports moved to a free block plus {@code i}
 *       ({@code CAIRN_HTTP_PORT}, {@code CAIRN_RAFT_PORT}, {@code CAIRN_K8S_PORT_STRIDE=1}) and on
 *       127.0.0.1 only ({@code CAIRN_HTTP_HOST}, {@code CAIRN_RAFT_HOST});</li>
 *   <li>the Kubernetes API and the service-account mount → {@link FakeKubeApi} (HTTPS, token, CA),
 *       whose {@code spec.replicas} {@link #scale} sets before it starts or stops pods;</li>
 *   <li>the client Service → {@link #endpoints()}: pods that are ready by the manifest's
 *       readinessProbe (probed every 250 ms instead of every periodSeconds) and not terminating.</li>
 * </ul>
 * {@link #close()} kills every process and deletes every file it made (a JVM shutdown hook too).
 */
final class StatefulSetSim implements AutoCloseable {
    static final Path JAR = Path.of("target", "cairn.jar");
    static final String NAMESPACE = "default";
    private static final int PODS_MAX = 10;
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(3);
    private static final long PROBE_MILLIS = 250;

    /** One pod: its ordinal, ports and volume are fixed; the process comes and goes. */
    final class Pod {
        final int ordinal;
        final String name;
        final int httpPort;
        final Path pvc;
        final Path tmp;
        final Path log;
        volatile Process process;
        volatile boolean terminating;
        volatile boolean ready;
        /** When the readiness probe last answered 200 in this process's life; 0 before. */
        volatile long lastReadyNanos;
        final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
        int starts;

        Pod(int ordinal) {
            this.ordinal = ordinal;
            this.name = statefulSet + "-" + ordinal;
            this.httpPort = httpBase + ordinal;
            this.pvc = root.resolve("pvc").resolve("data-" + name);
            this.tmp = root.resolve("tmp").resolve(name);
            this.log = root.resolve("logs").resolve(name + ".log");
        }

        String httpAddress() {
            return "127.0.0.1:" + httpPort;
        }

        boolean running() {
            Process p = process;
            return p != null && p.isAlive();
        }

        @Override
        public String toString() {
            return name + (running() ? (terminating ? " terminating" : ready ? " ready" : " running") : " down");
        }
    }

    private final Manifests k8s = Manifests.load();
    private final Path root;
    private final String statefulSet;
    private final int httpBase;
    private final int raftBase;
    private final Vertx vertx = Vertx.vertx();
    private final FakeKubeApi api;
    private final Path conf;
    private final Path hosts;
    private final Path work;
    private final Path image;
    private final Map<Integer, Pod> pods = new TreeMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
    private final Thread prober;
    private final Thread shutdownHook = new Thread(this::destroy, "statefulset-sim-cleanup");
    private volatile boolean closed;
    private int replicas;

    StatefulSetSim() throws Exception {
        this.root = Files.createTempDirectory("cairn-sts-");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try {
            this.statefulSet = (String) Manifests.at(k8s.statefulSet(), "metadata", "name");
            int base = io.cairn.Ports.freeBlock(2 * PODS_MAX);
            this.httpBase = base;
            this.raftBase = base + PODS_MAX;
            this.api = FakeKubeApi.start(vertx, root.resolve("serviceaccount"), NAMESPACE, statefulSet, 0);
            Path configMount = Path.of(k8s.args().get(1));
            this.conf = root.resolve("configmap").resolve(configMount.getFileName().toString());
            Files.createDirectories(conf.getParent());
            Files.copy(k8s.dir().resolve(configMount.getFileName().toString()), conf);
            this.work = Files.createDirectories(root.resolve("work"));
            // The image's jar under a name of its own: the command line never says cairn.jar, so a
            // `pkill -f cairn.jar` of another run on a shared machine cannot stop these pods.
            this.image = Files.createSymbolicLink(Files.createDirectories(root.resolve("image")).resolve("app.jar"),
                    JAR.toAbsolutePath());
            this.hosts = root.resolve("hosts");
            StringBuilder lines = new StringBuilder();
            String service = Manifests.podEnv(k8s.container(), "x", NAMESPACE).get("CAIRN_K8S_SERVICE");
            for (int i = 0; i < PODS_MAX; i++) {
                lines.append("127.0.0.1 ").append(statefulSet).append('-').append(i).append('.').append(service).append('.')
                        .append(NAMESPACE).append(".svc.cluster.local\n");
            }
            Files.writeString(hosts, lines.toString(), StandardCharsets.UTF_8);
            Files.createDirectories(root.resolve("logs"));
        } catch (Exception e) {
            destroy();
            throw e;
        }
        this.prober = new Thread(this::probeLoop, "readiness-prober");
        prober.setDaemon(true);
        prober.start();
    }

    // ---- the environment of a pod

    /** What the StatefulSet gives pod {@code ordinal}, and the mappings of this host (class comment). */
    Map<String, String> env(Pod pod) {
        Map<String, String> env = new LinkedHashMap<>(Manifests.podEnv(k8s.container(), pod.name, NAMESPACE));
        env.putAll(hostMappings(pod));
        return env;
    }

    /** The only settings that differ from the manifests: mounts and networking of one host. */
    Map<String, String> hostMappings(Pod pod) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("CAIRN_DATA_DIR", pod.pvc.toString());
        m.put("CAIRN_HTTP_HOST", "127.0.0.1");
        m.put("CAIRN_RAFT_HOST", "127.0.0.1");
        m.put("CAIRN_HTTP_PORT", Integer.toString(httpBase));
        m.put("CAIRN_RAFT_PORT", Integer.toString(raftBase));
        m.put("CAIRN_K8S_PORT_STRIDE", "1");
        m.put("CAIRN_K8S_API_URL", api.url());
        m.put("CAIRN_K8S_TOKEN_FILE", api.tokenFile().toString());
        m.put("CAIRN_K8S_CA_FILE", api.caFile().toString());
        return m;
    }

    private List<String> command(Pod pod) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Djava.io.tmpdir=" + pod.tmp, "-Djdk.net.hosts.file=" + hosts, "-Dvertx.disableDnsResolver=true",
                "-jar", image.toString()));
        for (String a : k8s.args()) cmd.add(a.equals(k8s.args().get(1)) ? conf.toString() : a);
        return cmd;
    }

    // ---- the StatefulSet controller

    Pod pod(int ordinal) {
        Pod p = pods.get(ordinal);
        if (p == null) throw new IllegalArgumentException("no pod " + ordinal);
        return p;
    }

    List<Pod> pods() {
        return List.copyOf(pods.values());
    }

    int replicas() {
        return replicas;
    }

    FakeKubeApi api() {
        return api;
    }

    /**
     * {@code kubectl scale}: spec.replicas first, then (Parallel policy) every missing pod starts at
     * once, or every pod at or past {@code n} gets SIGTERM at once; waits until the new ones are
     * ready, or the removed ones have exited within the grace period.
     */
    void scale(int n, Duration timeout) {
        if (n < 0 || n > PODS_MAX) throw new IllegalArgumentException("0.." + PODS_MAX + " replicas");
        api.replicas(n);
        int before = replicas;
        replicas = n;
        if (n > before) {
            for (int i = before; i < n; i++) start(pods.computeIfAbsent(i, Pod::new));
            for (int i = before; i < n; i++) awaitReady(pod(i), timeout);
        } else {
            List<Pod> going = new ArrayList<>();
            for (int i = n; i < before; i++) going.add(pod(i));
            for (Pod p : going) sigterm(p);
            for (Pod p : going) awaitExit(p, gracePeriod());
        }
    }

    /** A rolling update: from the highest ordinal down, SIGTERM, start again on the same volume, wait ready. */
    void rollingRestart(Duration readyTimeout, java.util.function.Consumer<String> progress) {
        for (int i = replicas - 1; i >= 0; i--) {
            Pod p = pod(i);
            sigterm(p);
            awaitExit(p, gracePeriod());
            progress.accept(p.name + " stopped");
            start(p);
            awaitReady(p, readyTimeout);
            progress.accept(p.name + " ready again");
        }
    }

    /** The length of the container's preStop hook ({@code sleep N}). */
    Duration preStop() {
        List<String> cmd = Manifests.strings(Manifests.at(k8s.container(), "lifecycle", "preStop", "exec", "command"));
        if (cmd.size() != 2 || !cmd.get(0).equals("sleep")) throw new AssertionError("preStop is not 'sleep N': " + cmd);
        return Duration.ofSeconds(Long.parseLong(cmd.get(1)));
    }

    Duration gracePeriod() {
        return Duration.ofSeconds(((Number) k8s.podSpec().get("terminationGracePeriodSeconds")).longValue());
    }

    private synchronized void start(Pod pod) {
        if (closed) throw new IllegalStateException("closed");
        if (pod.running()) throw new IllegalStateException(pod.name + " is running");
        try {
            Files.createDirectories(pod.pvc);
            Files.createDirectories(pod.tmp);
            Files.writeString(pod.log, "=== sim: start #" + (pod.starts + 1) + " of " + pod.name + " at " + Instant.now() + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            ProcessBuilder pb = new ProcessBuilder(command(pod)).directory(work.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(pod.log.toFile()));
            pb.environment().clear();
            pb.environment().putAll(env(pod));
            pod.ready = false;
            pod.lastReadyNanos = 0;
            pod.terminating = false;
            Process proc = pb.start();
            pod.process = proc;
            pod.starts++;
            proc.onExit().thenAccept(done -> note(pod, "exited with code " + done.exitValue()));
        } catch (IOException e) {
            throw new UncheckedIOException("starting " + pod.name, e);
        }
    }

    /**
     * What Kubernetes does to stop a pod: it leaves the client Service's endpoints at once, the
     * container's preStop hook runs (a pause long enough for every client to see the endpoints
     * change and finish what it sent), then SIGTERM. Here the clients are in this JVM, so the pause
     * is exactly "until no request to the pod is in flight", bounded by the hook's length.
     */
    void sigterm(Pod pod) {
        pod.terminating = true;
        pod.ready = false;
        Duration preStop = preStop();
        until(pod.name + "'s client requests to finish (preStop)", preStop.plusSeconds(5), () -> pod.inFlight.get() == 0,
                () -> pod.inFlight.get() + " in flight");
        Process p = pod.process;
        if (p != null) {
            note(pod, "SIGTERM to pid " + p.pid() + " (spec.replicas " + replicas + ")");
            p.destroy();
        }
    }

    /** Appends a line of the simulation to a pod's log. */
    private static void note(Pod pod, String what) {
        try {
            Files.writeString(pod.log, "=== sim: " + Instant.now() + " " + what + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the log is for diagnosis only
        }
    }

    private void awaitExit(Pod pod, Duration grace) {
        Process p = pod.process;
        try {
            if (p != null && !p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(pod.name + " did not exit within the grace period " + grace + "; log:\n" + tail(pod, 40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    void awaitReady(Pod pod, Duration timeout) {
        until(pod.name + " ready", timeout, () -> {
            assertAlive(pod);
            return pod.ready;
        }, () -> pod + ": " + describe(pod, "/health/ready"));
    }

    private void assertAlive(Pod pod) {
        Process p = pod.process;
        if (p != null && !p.isAlive() && !pod.terminating) {
            throw new AssertionError(pod.name + " exited with " + p.exitValue() + "; log:\n" + tail(pod, 60));
        }
    }

    // ---- the client Service and the probes

    /** The client Service's endpoints: ready, not terminating. */
    List<Pod> endpoints() {
        return pods.values().stream().filter(p -> p.ready && !p.terminating && p.running()).toList();
    }

    /**
     * The readinessProbe of the manifest, probed more often: a pod becomes ready on its first 200
     * (successThreshold 1) and unready once its probes have failed for periodSeconds x
     * failureThreshold; a terminating or exited pod leaves the endpoints at once.
     */
    private void probeLoop() {
        Map<String, Object> probe = Manifests.map(k8s.container().get("readinessProbe"));
        long failingNanosMax = TimeUnit.SECONDS.toNanos(((Number) probe.get("periodSeconds")).longValue()
                * ((Number) probe.get("failureThreshold")).longValue());
        String path = (String) Manifests.at(probe, "httpGet", "path");
        while (!closed) {
            for (Pod p : List.copyOf(pods.values())) {
                if (!p.running() || p.terminating) {
                    p.ready = false;
                    p.lastReadyNanos = 0;
                    continue;
                }
                HttpResponse<String> r = get(p, path);
                long now = System.nanoTime();
                if (r != null && r.statusCode() == 200) p.lastReadyNanos = now;
                if (!p.terminating) p.ready = p.lastReadyNanos != 0 && now - p.lastReadyNanos < failingNanosMax;
            }
            try {
                Thread.sleep(PROBE_MILLIS); // the probe period (the kubelet's periodSeconds, shortened)
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    // ---- HTTP

    HttpResponse<String> get(Pod pod, String pathAndQuery) {
        return send(pod, HttpRequest.newBuilder(URI.create("http://" + pod.httpAddress() + pathAndQuery)).GET());
    }

    /**
     * A client request through the client Service to {@code pod}, picked from {@link #endpoints()}:
     * null if the pod left the endpoints meanwhile (the client would see the change and pick another),
     * or when it does not answer in time. Counted in flight before that check, so {@link #sigterm}
     * (which marks the pod terminating, then waits for no request in flight) never races with it.
     */
    HttpResponse<String> sendViaService(Pod pod, HttpRequest.Builder req) {
        pod.inFlight.incrementAndGet();
        try {
            return pod.terminating ? null : send(pod, req);
        } finally {
            pod.inFlight.decrementAndGet();
        }
    }

    /** Sends a request to a pod; null when it does not answer in time. Counts it as in flight meanwhile. */
    HttpResponse<String> send(Pod pod, HttpRequest.Builder req) {
        pod.inFlight.incrementAndGet();
        try {
            return http.send(req.timeout(HTTP_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            pod.inFlight.decrementAndGet();
        }
    }

    /** {@code GET /v1/cluster} of a pod, or null. */
    JsonObject cluster(Pod pod) {
        HttpResponse<String> r = get(pod, "/v1/cluster");
        return r == null || r.statusCode() != 200 ? null : new JsonObject(r.body());
    }

    /** Member id → voter, as the pod reports it (empty if it does not answer). */
    Map<String, Boolean> members(Pod pod) {
        JsonObject c = cluster(pod);
        Map<String, Boolean> out = new TreeMap<>();
        if (c == null) return out;
        for (Object o : c.getJsonArray("members", new JsonArray())) {
            JsonObject m = (JsonObject) o;
            out.put(m.getString("id"), m.getBoolean("voter"));
        }
        return out;
    }

    private String describe(Pod pod, String path) {
        HttpResponse<String> r = get(pod, path);
        return r == null ? "no answer" : r.statusCode() + " " + r.body();
    }

    String tail(Pod pod, int lines) {
        try {
            List<String> all = Files.readAllLines(pod.log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    String log(Pod pod) {
        try {
            return Files.readString(pod.log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    void saveLogs(Path dest) throws IOException {
        Files.createDirectories(dest);
        for (Pod p : pods.values()) {
            if (Files.exists(p.log)) Files.copy(p.log, dest.resolve(p.log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---- waiting, ports, cleanup

    static void until(String what, Duration timeout, BooleanSupplier condition, Supplier<String> lastSeen) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; last: " + lastSeen.get());
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }


    Path root() {
        return root;
    }

    @Override
    public void close() {
        destroy();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down: the hook runs anyway
        }
    }

    private synchronized void destroy() {
        if (closed) return;
        closed = true;
        if (prober != null) prober.interrupt();
        for (Pod p : pods.values()) {
            Process proc = p.process;
            if (proc != null) proc.destroyForcibly();
        }
        for (Pod p : pods.values()) {
            Process proc = p.process;
            if (proc == null) continue;
            try {
                proc.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (api != null) api.close();
            vertx.close().await(10, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // best effort
        }
        if (Boolean.getBoolean("cairn.k8s.keep")) {
            System.err.println("cairn.k8s.keep: leaving " + root);
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) Files.deleteIfExists(p);
        } catch (IOException e) {
            System.err.println("could not delete " + root + ": " + e);
        }
    }
}
