package io.cairn.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The settings of one node (API.md, "Starting a node"). Built by {@link ConfigLoader} from the
 * built-in defaults, then {@code conf/cairn.json}, then {@code --conf FILE}, then the environment.
 */
public record CairnConfig(
        String nodeId,
        String clusterId,
        String httpHost,
        int httpPort,
        String raftHost,
        int raftPort,
        String advertiseHost,
        Path dataDir,
        long historyRetain,
        long historyRetainMillis,
        List<PeerSpec> peers,
        List<String> join,
        int apiInstances,
        long requestBytesMax,
        long docBytesMax,
        long writeTimeoutMillis,
        long readTimeoutMillis,
        int tickMillis,
        int electionTicks,
        int heartbeatTicks,
        long snapshotEntries,
        long progressMillis) {

    public CairnConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(dataDir, "dataDir");
        peers = List.copyOf(peers);
        join = List.copyOf(join);
    }

    /** One initial voter: {@code id=host:raftPort:httpPort}. */
    public record PeerSpec(String id, String host, int raftPort, int httpPort) {
        public String raftAddress() {
            return host + ":" + raftPort;
        }

        public String httpAddress() {
            return host + ":" + httpPort;
        }

        /** Parses {@code id=host:raftPort:httpPort}; throws IllegalArgumentException with a clear message. */
        public static PeerSpec parse(String text) {
            String t = text.trim();
            int eq = t.indexOf('=');
            String[] parts = eq < 0 ? new String[0] : t.substring(eq + 1).split(":");
            if (eq <= 0 || parts.length != 3) {
                throw new IllegalArgumentException("peer '" + text + "' is not of the form id=host:raftPort:httpPort");
            }
            return new PeerSpec(t.substring(0, eq), parts[0], ConfigLoader.port(parts[1], "raft port of " + text),
                    ConfigLoader.port(parts[2], "http port of " + text));
        }

        public static List<PeerSpec> parseList(String text) {
            List<PeerSpec> out = new ArrayList<>();
            if (text == null || text.isBlank()) return out;
            for (String p : text.split(",")) {
                if (!p.isBlank()) out.add(parse(p));
            }
            return out;
        }
    }

    public String raftAddress() {
        return advertiseHost + ":" + raftPort;
    }

    public String httpAddress() {
        return advertiseHost + ":" + httpPort;
    }

    /** The initial voters: {@link #peers} or, when empty, this node alone. */
    public List<PeerSpec> initialVoters() {
        if (!peers.isEmpty()) return peers;
        return List.of(new PeerSpec(nodeId, advertiseHost, raftPort, httpPort));
    }
}
