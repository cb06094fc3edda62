package io.cairn.api;

import io.cairn.node.CairnNode;
import io.cairn.node.NodeMetrics;
import io.cairn.raft.Member;
import io.cairn.raft.Role;
import io.cairn.raft.Status;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The Raft and store figures of a node as Micrometer meters, exposed in Prometheus text by
 * {@code GET /metrics} together with whatever Vert.x itself records there (HTTP server figures when
 * Vert.x runs with Micrometer metrics, as {@code java -jar cairn.jar} does). Gauges read the
 * node's published state when scraped; nothing is computed on the hot path.
 */
public final class Metrics {
    private final CairnNode node;
    private final PrometheusMeterRegistry registry;
    private final Set<String> peersWithGauges = ConcurrentHashMap.newKeySet();

    public Metrics(CairnNode node, PrometheusMeterRegistry registry) {
        this.node = node;
        this.registry = registry;
        bind();
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    private void bind() {
        NodeMetrics m = node.metrics();
        String id = node.config().nodeId();
        Gauge.builder("cairn_raft_term", node, n -> n.state().status().term()).tag("node", id).register(registry);
        for (Role role : Role.values()) {
            Gauge.builder("cairn_raft_role", node, n -> n.state().status().role() == role ? 1 : 0)
                    .tag("node", id).tag("role", role.name().toLowerCase(java.util.Locale.ROOT))
                    .description("1 for the role this node has now").register(registry);
        }
        Gauge.builder("cairn_raft_commit_index", node, n -> n.state().status().commitIndex()).tag("node", id).register(registry);
        Gauge.builder("cairn_raft_applied_index", node, CairnNode::appliedIndex).tag("node", id).register(registry);
        Gauge.builder("cairn_raft_last_index", node, n -> n.state().status().lastIndex()).tag("node", id).register(registry);
        Gauge.builder("cairn_raft_snapshot_index", node, n -> n.state().status().snapshotIndex()).tag("node", id).register(registry);
        FunctionCounter.builder("cairn_raft_leader_changes", m, NodeMetrics::leaderChanges).tag("node", id).register(registry);
        FunctionCounter.builder("cairn_raft_proposals", m, NodeMetrics::proposals).tag("node", id).register(registry);
        FunctionCounter.builder("cairn_forwarded_writes", m, NodeMetrics::forwardedWrites).tag("node", id).register(registry);
        FunctionCounter.builder("cairn_raft_appended_entries", m, NodeMetrics::persistedEntries).tag("node", id)
                .description("entries appended to the durable log (divide by cairn_raft_fsync_seconds_count for the batch size)")
                .register(registry);
        FunctionTimer.builder("cairn_raft_fsync", m, NodeMetrics::persists, NodeMetrics::persistNanos, TimeUnit.NANOSECONDS)
                .tag("node", id).description("durable log appends: one transaction and one fsync each").register(registry);
        Gauge.builder("cairn_raft_fsync_max_seconds", m, x -> x.persistNanosMax() / 1e9).tag("node", id).register(registry);
        FunctionCounter.builder("cairn_applied_entries", m, NodeMetrics::appliedEntries).tag("node", id).register(registry);
        FunctionTimer.builder("cairn_apply", m, NodeMetrics::applyBatches, NodeMetrics::applyNanos, TimeUnit.NANOSECONDS)
                .tag("node", id).description("batches of committed entries applied to state.db: one transaction each, not synced")
                .register(registry);
        FunctionTimer.builder("cairn_snapshots", m, NodeMetrics::snapshots, NodeMetrics::snapshotNanos, TimeUnit.NANOSECONDS)
                .tag("node", id).register(registry);
        // The process itself: heap and memory pools, threads, CPU (process_cpu_usage, process_cpu_time_ns_total).
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
    }

    /** Registers a lag gauge for every member seen so far (members come and go with the log). */
    private void bindPeers() {
        for (Member member : node.state().membership().members()) {
            String peer = member.id();
            if (!peersWithGauges.add(peer)) continue;
            Gauge.builder("cairn_raft_replication_lag_entries", node, n -> lag(n.state().status(), peer))
                    .tag("node", node.config().nodeId()).tag("peer", peer)
                    .description("leader only: entries the peer lacks (last index minus its match index); NaN elsewhere")
                    .register(registry);
        }
    }

    private static double lag(Status s, String peer) {
        Long match = s.matchIndex().get(peer);
        if (s.role() != Role.LEADER || match == null) return Double.NaN;
        return Math.max(0, s.lastIndex() - match);
    }

    /** The Prometheus text of every meter. */
    public String scrape() {
        bindPeers();
        return registry.scrape();
    }
}
