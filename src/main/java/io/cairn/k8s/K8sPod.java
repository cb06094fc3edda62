package io.cairn.k8s;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node running as pod {@code <statefulSet>-<ordinal>} of a Kubernetes StatefulSet, built from the
 * {@code CAIRN_K8S_*} settings (ConfigLoader.K8S_SETTINGS). {@link #settings} derives what the pod
 * is from what the StatefulSet says:
 * <ul>
 *   <li>node id = pod name; advertised host = {@code <pod>.<service>.<namespace>.svc.<domain>}
 *       (the pod's DNS name under the headless Service);</li>
 *   <li>pods {@code 0..initialReplicas-1} are the initial voters ({@code CAIRN_PEERS}), read only
 *       when the data directory is new;</li>
 *   <li>a higher ordinal, or a pod whose data directory carries the {@link #LEFT_MARK} of a
 *       scale-down that removed it, joins the running cluster ({@code CAIRN_JOIN} = the other
 *       pods' HTTP addresses); joining is ignored by a node that already has a membership.</li>
 * </ul>
 * With a port stride (tests on one host), pod {@code i} listens and is reached on the configured
 * ports plus {@code i * stride}; on Kubernetes the stride is 0 and every pod uses the same ports.
 */
public record K8sPod(String statefulSet, String podName, int ordinal, String namespace, String service,
                     int initialReplicas, String domain, int portStride, String apiUrl, Path tokenFile,
                     Path caFile, long leaveTimeoutMillis) {
    private static final Logger log = LoggerFactory.getLogger(K8sPod.class);

    /**
     * Written into the data directory once this pod's removal from the membership committed (a
     * scale-down). A pod that starts with it clears the directory and joins as a new member: its old
     * log and store belong to a membership it is no longer part of.
     */
    public static final String LEFT_MARK = "left-cluster";

    /** Kept when a data directory is cleared: the mount point's own entry on ext4 volumes. */
    private static final List<String> KEEP_ON_CLEAR = List.of("lost+found");

    public K8sPod {
        if (ordinal < 0) throw new IllegalArgumentException("ordinal must be >= 0");
        if (initialReplicas < 1) throw new IllegalArgumentException("CAIRN_K8S_INITIAL_REPLICAS must be at least 1");
        if (portStride < 0) throw new IllegalArgumentException("CAIRN_K8S_PORT_STRIDE must be >= 0");
    }

    /**
     * The pod described by merged settings (JSON names, as {@code ConfigLoader.settings} returns
     * them), or empty when {@code k8sStatefulSet} is unset (not on Kubernetes). Throws
     * IllegalArgumentException with a clear message for inconsistent settings.
     */
    public static Optional<K8sPod> fromSettings(Map<String, String> s) {
        String sts = s.getOrDefault("k8sStatefulSet", "").trim();
        if (sts.isEmpty()) return Optional.empty();
        String pod = required(s, "k8sPodName", "CAIRN_K8S_POD_NAME");
        String service = required(s, "k8sService", "CAIRN_K8S_SERVICE");
        String prefix = sts + "-";
        if (!pod.startsWith(prefix) || !pod.substring(prefix.length()).matches("0|[1-9][0-9]{0,5}")) {
            throw new IllegalArgumentException("CAIRN_K8S_POD_NAME '" + pod + "' is not a pod of StatefulSet '" + sts
                    + "' (" + prefix + "<ordinal>)");
        }
        return Optional.of(new K8sPod(sts, pod, Integer.parseInt(pod.substring(prefix.length())),
                required(s, "k8sNamespace", "CAIRN_K8S_NAMESPACE"), service,
                number(s, "k8sInitialReplicas", "CAIRN_K8S_INITIAL_REPLICAS", 1, 99),
                required(s, "k8sDomain", "CAIRN_K8S_DOMAIN"),
                number(s, "k8sPortStride", "CAIRN_K8S_PORT_STRIDE", 0, 1000),
                required(s, "k8sApiUrl", "CAIRN_K8S_API_URL").replaceAll("/+$", ""),
                Path.of(required(s, "k8sTokenFile", "CAIRN_K8S_TOKEN_FILE")),
                Path.of(required(s, "k8sCaFile", "CAIRN_K8S_CA_FILE")),
                number(s, "k8sLeaveTimeoutMillis", "CAIRN_K8S_LEAVE_TIMEOUT_MS", 100, 600_000)));
    }

    /** The name of the pod with {@code ordinal}. */
    public String podName(int i) {
        return statefulSet + "-" + i;
    }

    /** The DNS name of the pod with {@code ordinal} under the headless Service. */
    public String host(int i) {
        return podName(i) + "." + service + "." + namespace + ".svc." + domain;
    }

    /** Whether this pod starts as one of the initial voters (when its data directory is new). */
    public boolean initialMember() {
        return ordinal < initialReplicas;
    }

    /**
     * The settings of this pod: {@code settings} with {@code nodeId}, {@code advertiseHost},
     * {@code peers}, {@code join} (and with a stride, {@code httpPort} and {@code raftPort}) derived
     * from the StatefulSet. If the data directory carries {@link #LEFT_MARK}, clears it first and
     * joins. Values the derivation owns are replaced whatever the environment said.
     */
    public Map<String, String> settings(Map<String, String> settings) {
        Map<String, String> out = new LinkedHashMap<>(settings);
        int httpBase = port(settings, "httpPort");
        int raftBase = port(settings, "raftPort");
        boolean rejoin = clearIfLeft(Path.of(settings.get("dataDir")));
        out.put("nodeId", podName);
        out.put("advertiseHost", host(ordinal));
        out.put("httpPort", Integer.toString(httpBase + ordinal * portStride));
        out.put("raftPort", Integer.toString(raftBase + ordinal * portStride));
        List<String> peers = new ArrayList<>();
        for (int i = 0; i < initialReplicas; i++) {
            peers.add(podName(i) + "=" + host(i) + ":" + (raftBase + i * portStride) + ":" + (httpBase + i * portStride));
        }
        List<String> join = new ArrayList<>();
        for (int i = 0; i < Math.max(initialReplicas, ordinal); i++) {
            if (i != ordinal) join.add(host(i) + ":" + (httpBase + i * portStride));
        }
        out.put("peers", initialMember() ? String.join(",", peers) : "");
        out.put("join", initialMember() && !rejoin ? "" : String.join(",", join));
        log.info("{}: pod {} of StatefulSet {} ({} initial replicas); {}", podName, ordinal, statefulSet, initialReplicas,
                initialMember() && !rejoin ? "an initial voter when its data directory is new"
                        : "joins through " + join + " when its data directory is new");
        return out;
    }

    /**
     * If {@code dataDir} holds {@link #LEFT_MARK}, deletes everything in it (but {@code lost+found}),
     * the mark last, and returns true. Throws IllegalArgumentException if it cannot.
     */
    static boolean clearIfLeft(Path dataDir) {
        Path mark = dataDir.resolve(LEFT_MARK);
        if (!Files.isRegularFile(mark)) return false;
        log.info("{} holds {}: this pod left the cluster on a scale-down; clearing it to join afresh", dataDir, LEFT_MARK);
        try (Stream<Path> entries = Files.list(dataDir)) {
            for (Path p : entries.toList()) {
                String name = p.getFileName().toString();
                if (!KEEP_ON_CLEAR.contains(name) && !name.equals(LEFT_MARK)) deleteTree(p);
            }
            Files.delete(mark);
        } catch (IOException e) {
            // an IllegalArgumentException is what Main reports as a settings problem, with its message
            throw new IllegalArgumentException("cannot clear " + dataDir + " after a scale-down: " + e, e);
        }
        return true;
    }

    /** Writes {@link #LEFT_MARK} into {@code dataDir} (blocking; small). */
    static void markLeft(Path dataDir, String why) throws IOException {
        Path tmp = dataDir.resolve(LEFT_MARK + ".tmp");
        Files.writeString(tmp, why + " at " + Instant.now() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dataDir.resolve(LEFT_MARK), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> walk = Files.walk(p)) {
                for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
            }
        } else {
            Files.delete(p);
        }
    }

    private static String required(Map<String, String> s, String json, String env) {
        String v = s.getOrDefault(json, "").trim();
        if (v.isEmpty()) throw new IllegalArgumentException(env + " must be set when CAIRN_K8S_STATEFULSET is");
        return v;
    }

    private static int number(Map<String, String> s, String json, String env, int min, int max) {
        String v = s.getOrDefault(json, "").trim();
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(env + " must be a whole number in " + min + ".." + max + ": '" + v + "'");
    }

    private static int port(Map<String, String> s, String json) {
        try {
            return Integer.parseInt(s.getOrDefault(json, "").trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(json + " must be a port: '" + s.get(json) + "'");
        }
    }
}
