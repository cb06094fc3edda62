package io.cairn.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads settings in order: built-in defaults, {@code conf/cairn.json} (if present in the working
 * directory), {@code --conf FILE}, then environment variables. Every setting has one JSON name and
 * one environment name; {@link #SETTINGS} lists them for {@code --help}.
 */
public final class ConfigLoader {
    /** One setting: JSON name, environment variable, default, and what it means. */
    public record Setting(String json, String env, String defaultValue, String meaning) {}

    /**
     * Settings of a node running as a pod of a Kubernetes StatefulSet, read by {@code io.cairn.k8s}
     * (not by {@link #build}): when {@code CAIRN_K8S_STATEFULSET} is set, the pod's identity, advertised
     * host, initial peers or join targets are derived from them (k8s/README.md).
     */
    public static final List<Setting> K8S_SETTINGS = List.of(
            new Setting("k8sStatefulSet", "CAIRN_K8S_STATEFULSET", "",
                    "name of the StatefulSet this node runs in; set, it turns on the Kubernetes settings below"),
            new Setting("k8sPodName", "CAIRN_K8S_POD_NAME", "", "this pod's name <statefulset>-<ordinal> (downward API)"),
            new Setting("k8sNamespace", "CAIRN_K8S_NAMESPACE", "default", "the pod's namespace (downward API)"),
            new Setting("k8sService", "CAIRN_K8S_SERVICE", "", "the headless Service that names the pods"),
            new Setting("k8sInitialReplicas", "CAIRN_K8S_INITIAL_REPLICAS", "3",
                    "pods 0..N-1 form the cluster; higher ordinals with a new data directory join it"),
            new Setting("k8sDomain", "CAIRN_K8S_DOMAIN", "cluster.local",
                    "cluster DNS domain: a pod is <pod>.<service>.<namespace>.svc.<domain>"),
            new Setting("k8sPortStride", "CAIRN_K8S_PORT_STRIDE", "0",
                    "pod i listens and is reached on the ports plus i*stride (0 on Kubernetes; for tests on one host)"),
            new Setting("k8sApiUrl", "CAIRN_K8S_API_URL", "https://kubernetes.default.svc",
                    "Kubernetes API base URL, read on stop to tell a scale-down from a restart"),
            new Setting("k8sTokenFile", "CAIRN_K8S_TOKEN_FILE", "/var/run/secrets/kubernetes.io/serviceaccount/token",
                    "service-account token for the Kubernetes API"),
            new Setting("k8sCaFile", "CAIRN_K8S_CA_FILE", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                    "CA certificate (PEM) of the Kubernetes API"),
            new Setting("k8sLeaveTimeoutMillis", "CAIRN_K8S_LEAVE_TIMEOUT_MS", "12000",
                    "how long a pod removed by a scale-down tries to leave the membership before it stops"));

    public static final List<Setting> SETTINGS = Stream.concat(Stream.of(
            new Setting("nodeId", "CAIRN_NODE_ID", "node-1", "this node's id, stable across restarts"),
            new Setting("clusterId", "CAIRN_CLUSTER_ID", "cairn", "peers of another cluster id are refused"),
            new Setting("httpHost", "CAIRN_HTTP_HOST", "0.0.0.0", "client listener host"),
            new Setting("httpPort", "CAIRN_HTTP_PORT", "8080", "client listener port"),
            new Setting("raftHost", "CAIRN_RAFT_HOST", "0.0.0.0", "peer listener host"),
            new Setting("raftPort", "CAIRN_RAFT_PORT", "7000", "peer listener port"),
            new Setting("advertiseHost", "CAIRN_ADVERTISE_HOST", "127.0.0.1",
                    "the host name peers and clients use to reach this node"),
            new Setting("dataDir", "CAIRN_DATA_DIR", "./data", "where the SQLite files live"),
            new Setting("historyRetain", "CAIRN_HISTORY_RETAIN", "1000000", "how many changes the change history keeps"),
            new Setting("historyRetainMillis", "CAIRN_HISTORY_RETAIN_MS", "604800000",
                    "how long (ms) the change history keeps a change (default 7 days)"),
            new Setting("peers", "CAIRN_PEERS", "",
                    "initial voters, self included: id=host:raftPort:httpPort,...; read only when the data directory is new"),
            new Setting("join", "CAIRN_JOIN", "", "HTTP addresses host:port,... of a running cluster to join"),
            new Setting("apiInstances", "CAIRN_API_INSTANCES", "0", "HTTP verticle instances (0 = one per core)"),
            new Setting("requestBytesMax", "CAIRN_REQUEST_BYTES_MAX", "8388608", "largest request body"),
            new Setting("docBytesMax", "CAIRN_DOC_BYTES_MAX", "1048576", "largest document"),
            new Setting("writeTimeoutMillis", "CAIRN_WRITE_TIMEOUT_MS", "5000", "how long a write waits for its commit"),
            new Setting("readTimeoutMillis", "CAIRN_READ_TIMEOUT_MS", "5000", "how long a read waits for its read index"),
            new Setting("tickMillis", "CAIRN_TICK_MS", "50", "Raft tick length"),
            new Setting("electionTicks", "CAIRN_ELECTION_TICKS", "10", "election timeout in ticks (randomized up to 2x)"),
            new Setting("heartbeatTicks", "CAIRN_HEARTBEAT_TICKS", "1", "leader heartbeat interval in ticks"),
            new Setting("snapshotEntries", "CAIRN_SNAPSHOT_ENTRIES", "100000",
                    "take a snapshot and compact the log after this many applied entries"),
            new Setting("progressMillis", "CAIRN_PROGRESS_MS", "5000",
                    "an idle change stream gets a progress frame this often")),
            K8S_SETTINGS.stream()).toList();

    private ConfigLoader() {}

    /**
     * Loads the configuration. {@code confFile} may be null; {@code env} is usually
     * {@code System.getenv()}; {@code workDir} is where {@code conf/cairn.json} is looked for.
     */
    public static CairnConfig load(Path workDir, Path confFile, Map<String, String> env) {
        return build(settings(workDir, confFile, env));
    }

    /**
     * The merged settings (defaults, files, environment) by JSON name, before they are checked:
     * what {@code io.cairn.k8s} rewrites before {@link #build} turns them into a config.
     */
    public static Map<String, String> settings(Path workDir, Path confFile, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Setting s : SETTINGS) values.put(s.json(), s.defaultValue());
        Path defaults = workDir.resolve("conf").resolve("cairn.json");
        if (Files.isRegularFile(defaults)) mergeFile(values, defaults);
        if (confFile != null) {
            if (!Files.isRegularFile(confFile)) throw new IllegalArgumentException("--conf " + confFile + ": no such file");
            mergeFile(values, confFile);
        }
        for (Setting s : SETTINGS) {
            String v = env.get(s.env());
            if (v != null) values.put(s.json(), v);
        }
        return values;
    }

    private static void mergeFile(Map<String, String> values, Path file) {
        JsonObject json;
        try {
            json = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException | DecodeException e) {
            throw new IllegalArgumentException("cannot read settings file " + file + ": " + e.getMessage());
        }
        for (String name : json.fieldNames()) {
            if (SETTINGS.stream().noneMatch(s -> s.json().equals(name))) {
                throw new IllegalArgumentException("unknown setting '" + name + "' in " + file);
            }
            Object v = json.getValue(name);
            values.put(name, v == null ? "" : String.valueOf(v));
        }
    }

    /** Checks merged settings (as {@link #settings} returns them) and builds the config. */
    public static CairnConfig build(Map<String, String> v) {
        int cores = Runtime.getRuntime().availableProcessors();
        int api = intSetting(v, "apiInstances", 0, 64);
        CairnConfig c = new CairnConfig(
                name(v.get("nodeId"), "nodeId"),
                name(v.get("clusterId"), "clusterId"),
                v.get("httpHost"),
                port(v.get("httpPort"), "httpPort"),
                v.get("raftHost"),
                port(v.get("raftPort"), "raftPort"),
                v.get("advertiseHost"),
                Path.of(v.get("dataDir")),
                longSetting(v, "historyRetain", 1, Long.MAX_VALUE),
                longSetting(v, "historyRetainMillis", 1, Long.MAX_VALUE),
                CairnConfig.PeerSpec.parseList(v.get("peers")),
                splitList(v.get("join")),
                api == 0 ? Math.max(1, cores) : api,
                longSetting(v, "requestBytesMax", 1024, 1L << 30),
                longSetting(v, "docBytesMax", 16, 1L << 30),
                longSetting(v, "writeTimeoutMillis", 1, 600_000),
                longSetting(v, "readTimeoutMillis", 1, 600_000),
                intSetting(v, "tickMillis", 1, 10_000),
                intSetting(v, "electionTicks", 3, 10_000),
                intSetting(v, "heartbeatTicks", 1, 10_000),
                longSetting(v, "snapshotEntries", 16, Long.MAX_VALUE),
                longSetting(v, "progressMillis", 10, 3_600_000));
        if (c.heartbeatTicks() >= c.electionTicks()) {
            throw new IllegalArgumentException("heartbeatTicks must be smaller than electionTicks");
        }
        if (!c.peers().isEmpty() && c.peers().stream().noneMatch(p -> p.id().equals(c.nodeId()))) {
            throw new IllegalArgumentException("CAIRN_PEERS must include this node (" + c.nodeId() + ")");
        }
        return c;
    }

    private static String name(String value, String what) {
        if (value == null || !value.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")) {
            throw new IllegalArgumentException(what + " '" + value + "' must be 1-63 letters, digits, '.', '_' or '-'");
        }
        return value;
    }

    static int port(String text, String what) {
        int p = (int) parseLong(text, what);
        if (p < 0 || p > 65535) throw new IllegalArgumentException(what + " must be a port (0-65535): " + text);
        return p;
    }

    private static int intSetting(Map<String, String> v, String name, int min, int max) {
        return (int) longSetting(v, name, min, max);
    }

    private static long longSetting(Map<String, String> v, String name, long min, long max) {
        long n = parseLong(v.get(name), name);
        if (n < min || n > max) throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ": " + n);
        return n;
    }

    private static long parseLong(String text, String what) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException(what + " must be a whole number: " + text);
        }
    }

    private static List<String> splitList(String text) {
        if (text == null || text.isBlank()) return List.of();
        return java.util.Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    /** The text of {@code --help}. */
    public static String help() {
        StringBuilder b = new StringBuilder();
        b.append("Usage: java -jar cairn.jar [--conf FILE]          run a node\n");
        b.append("       java -jar cairn.jar restore BACKUP [--conf FILE]   seed a new data directory from a backup\n");
        b.append("       java -jar cairn.jar bench --help                   the load generator\n\n");
        b.append("Settings come from conf/cairn.json, then --conf FILE, then the environment:\n\n");
        for (Setting s : SETTINGS) {
            b.append(String.format("  %-26s %-20s %s (default: %s)%n", s.env(), s.json(), s.meaning(),
                    s.defaultValue().isEmpty() ? "unset" : s.defaultValue()));
        }
        return b.toString();
    }
}
