package io.cairn;

import io.cairn.api.ApiVerticle;
import io.cairn.api.ChangeStreams;
import io.cairn.api.EventBusApi;
import io.cairn.api.Metrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.cairn.api.RequestHandler;
import io.cairn.config.CairnConfig;
import io.cairn.node.CairnNode;
import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.cairn.node.ForwardCodec;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A whole Cairn server in a Vert.x instance: the node (Raft, store, transport) and its HTTP front
 * end. {@code java -jar cairn.jar} runs one; an application can embed one with
 * {@link #start(Vertx, CairnConfig)}.
 */
public final class Cairn {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Cairn.class);
    private final Vertx vertx;
    private final CairnNode node;
    private final RequestHandler handler;
    private final ChangeStreams changes;
    private final List<String> apiDeployments = new ArrayList<>();
    private int httpPort;
    private Joiner joiner;
    private io.vertx.core.eventbus.MessageConsumer<Object> busConsumer;
    private final List<java.util.function.Supplier<Future<?>>> beforeStop = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Cairn(Vertx vertx, CairnNode node, RequestHandler handler, ChangeStreams changes) {
        this.vertx = vertx;
        this.node = node;
        this.handler = handler;
        this.changes = changes;
    }

    /**
     * Starts a node with {@code config} in {@code vertx}; fails with a clear message if it cannot.
     * Its metrics go to a registry of its own ({@code GET /metrics}).
     */
    public static Future<Cairn> start(Vertx vertx, CairnConfig config) {
        return start(vertx, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    /**
     * Starts a node whose {@code GET /metrics} shows {@code registry}: pass the registry Vert.x was
     * built with ({@link #newVertx}) to see its HTTP figures beside Cairn's.
     */
    public static Future<Cairn> start(Vertx vertx, CairnConfig config, PrometheusMeterRegistry registry) {
        AtomicReference<RequestHandler> handlerRef = new AtomicReference<>();
        AtomicReference<ChangeStreams> changesRef = new AtomicReference<>();
        return CairnNode.start(vertx, config, json -> {
            RequestHandler h = handlerRef.get();
            return h == null ? Future.succeededFuture(ForwardCodec.error(
                    new CairnException(ErrorCode.NOT_READY, "the leader is still starting; retry")))
                    : h.serveForwarded(json);
        }, applied -> {
            ChangeStreams c = changesRef.get();
            if (c != null) c.onApplied(applied);
        }).compose(node -> {
            RequestHandler handler = new RequestHandler(node, new Metrics(node, registry));
            handlerRef.set(handler);
            ChangeStreams changes = new ChangeStreams(node, config.progressMillis());
            changesRef.set(changes);
            Cairn cairn = new Cairn(vertx, node, handler, changes);
            cairn.busConsumer = new EventBusApi(handler, changes).register(vertx, EventBusApi.ADDRESS);
            return cairn.deployApi(config).map(v -> {
                        if (!config.join().isEmpty() && node.state().membership().members().isEmpty()) {
                            cairn.joiner = new Joiner(vertx, config, node);
                            cairn.joiner.start();
                        }
                        return cairn;
                    })
                    .recover(e -> node.stop().transform(ignored -> Future.failedFuture(e)));
        });
    }

    private Future<Void> deployApi(CairnConfig config) {
        long bodyMax = config.requestBytesMax();
        ApiVerticle first = new ApiVerticle(config.httpHost(), config.httpPort(), vx -> handler.httpApi(changes).router(vx, bodyMax));
        return vertx.deployVerticle(first).compose(id -> {
            apiDeployments.add(id);
            httpPort = first.actualPort();
            // Port 0 (tests, embedding) gets one instance: a second one cannot share a port chosen at random.
            int more = config.httpPort() == 0 ? 0 : config.apiInstances() - 1;
            if (more <= 0) return Future.succeededFuture();
            DeploymentOptions options = new DeploymentOptions().setInstances(more);
            return vertx.deployVerticle(() -> new ApiVerticle(config.httpHost(), httpPort,
                    vx -> handler.httpApi(changes).router(vx, bodyMax)), options).map(id2 -> {
                        apiDeployments.add(id2);
                        return null;
                    });
        });
    }

    /**
     * A Vert.x instance that records its HTTP server figures into {@code registry} (what {@code Main}
     * runs). Only the HTTP server domain: event-bus and TCP metrics look a meter up per message and
     * per read, and showed in a perf profile of a leader under 64 writers.
     */
    public static Vertx newVertx(PrometheusMeterRegistry registry) {
        MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true);
        for (MetricsDomain d : MetricsDomain.values()) {
            if (d != MetricsDomain.HTTP_SERVER) metrics.addDisabledMetricsCategory(d);
        }
        VertxOptions options = new VertxOptions().setMetricsOptions(metrics);
        return Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry)).build();
    }

    /** The node's change-stream server (tests look at its sharing). */
    public ChangeStreams changeStreams() {
        return changes;
    }

    public CairnNode node() {
        return node;
    }

    /** The bound HTTP port (the configured one unless it was 0). */
    public int httpPort() {
        return httpPort;
    }

    /**
     * Stops gracefully: a leader first hands leadership to the most caught-up voter (bounded by the
     * write timeout), then the HTTP front end stops accepting and lets requests in flight finish,
     * then the node stops. Each step is bounded, so the whole stop is.
     */
    public Future<Void> stop() {
        if (joiner != null) joiner.stop();
        return runBeforeStop().transform(ar -> handOffLeadership()).transform(ar -> stopFrontAndNode());
    }

    /**
     * Adds a step that {@link #stop()} runs first, after the steps added before it, while the node
     * still serves (how a Kubernetes pod removed by a scale-down leaves the membership). A step
     * bounds its own time; one that fails is logged and the stop goes on.
     */
    public void beforeStop(java.util.function.Supplier<Future<?>> step) {
        beforeStop.add(java.util.Objects.requireNonNull(step, "step"));
    }

    private Future<Void> runBeforeStop() {
        Future<Void> chain = Future.succeededFuture();
        for (var step : beforeStop) {
            chain = chain.transform(ar -> step.get().<Void>mapEmpty().recover(e -> {
                log.warn("{}: a step before stopping failed: {}", node.config().nodeId(), e.toString());
                return Future.succeededFuture();
            }));
        }
        return chain;
    }

    private Future<Void> handOffLeadership() {
        if (!node.state().isLeader()) return Future.succeededFuture();
        var status = node.state().status();
        String self = node.config().nodeId();
        var successor = status.membership().members().stream()
                .filter(m -> m.voter() && !m.id().equals(self))
                .max(java.util.Comparator.comparingLong(m -> status.matchIndex().getOrDefault(m.id(), 0L)));
        if (successor.isEmpty()) return Future.succeededFuture();
        log.info("{} hands leadership to {} before stopping", self, successor.get().id());
        return node.transferLeadership(successor.get().id()).recover(e -> {
            log.warn("{} could not hand off leadership: {}", self, e.getMessage());
            return Future.succeededFuture();
        });
    }

    private Future<Void> stopFrontAndNode() {
        if (busConsumer != null) busConsumer.unregister();
        Future<Void> chain = Future.succeededFuture();
        for (String id : apiDeployments) {
            chain = chain.transform(ar -> vertx.undeploy(id).recover(e -> Future.succeededFuture()));
        }
        apiDeployments.clear();
        return chain.transform(ar -> node.stop());
    }
}
