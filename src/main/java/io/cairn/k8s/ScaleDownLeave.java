package io.cairn.k8s;

import io.cairn.config.CairnConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The step a pod runs when it is told to stop (SIGTERM), before the node's graceful stop: it tells
 * a scale-down from a restart, and on a scale-down leaves the membership first.
 *
 * <p><b>How it tells them apart.</b> A StatefulSet removes pods from the highest ordinal down, and
 * its {@code spec.replicas} is lowered before the controller deletes any pod. So at SIGTERM the
 * pod reads {@code spec.replicas} from the Kubernetes API: if {@code 0 < replicas <= ordinal} this
 * pod is going away for good → it leaves. Otherwise (a rolling update, {@code kubectl delete pod},
 * an eviction or node drain, a liveness restart, the StatefulSet itself deleted, or a scale to 0,
 * which is a pause of the whole cluster) it is a restart → it stays a member. If the API cannot be
 * read, it also stays: keeping a member that is gone costs availability margin, removing one that
 * comes back would cost its data.
 *
 * <p><b>Leaving.</b> A leader first hands leadership to the voter of a staying pod with the most of
 * the log ({@code POST /v1/cluster/leader}): a leader that removed itself would step down with the
 * writes it coordinates unanswered. Then {@code DELETE /v1/cluster/members/<self>} goes over HTTP to
 * the leader (to another member when no leader is known; to itself only if no staying pod can
 * lead). Not through this node's own listener when it follows: that would forward over the peer
 * link, and the leader drops its link to a member once it is removed, so the answer would never
 * come back. {@code 204} means the removal committed; {@code 404} that it
 * already had. A refusal that may pass (another change in progress when pods leave in parallel, no
 * leader, a timeout) is retried until {@code CAIRN_K8S_LEAVE_TIMEOUT_MS}. Once removed, the pod
 * writes {@link K8sPod#LEFT_MARK} into its data directory, so if the StatefulSet grows again and the
 * old volume comes back, the pod clears it and joins as a new member. Every failure is logged and
 * the stop goes on.
 */
public final class ScaleDownLeave implements Supplier<Future<?>> {
    private static final Logger log = LoggerFactory.getLogger(ScaleDownLeave.class);
    private static final long RETRY_MILLIS = 200;
    private static final long REQUEST_TIMEOUT_MILLIS_MAX = 3_000;
    private static final long API_TIMEOUT_MILLIS_MAX = 5_000;

    private final Vertx vertx;
    private final K8sPod pod;
    private final CairnConfig config;
    private final int httpPort;
    private final StatefulSetReader reader;

    private ScaleDownLeave(Vertx vertx, K8sPod pod, CairnConfig config, int httpPort) {
        this.vertx = vertx;
        this.pod = pod;
        this.config = config;
        this.httpPort = httpPort;
        StatefulSetReader r = null;
        try {
            r = new StatefulSetReader(vertx, pod);
        } catch (IllegalStateException e) {
            log.warn("{}: {}; every stop will count as a restart", pod.podName(), e.getMessage());
        }
        this.reader = r;
    }

    /**
     * The step for {@code Cairn.beforeStop}; reads the StatefulSet once now, which logs early whether
     * the API and the Role work and sets up TLS while there is time. {@code httpPort}: the port this
     * node's HTTP API is bound to.
     */
    public static ScaleDownLeave start(Vertx vertx, K8sPod pod, CairnConfig config, int httpPort) {
        ScaleDownLeave step = new ScaleDownLeave(vertx, pod, config, httpPort);
        if (step.reader != null) {
            step.reader.replicas(API_TIMEOUT_MILLIS_MAX).onComplete(ar -> {
                if (ar.succeeded()) {
                    log.info("{} can read StatefulSet {} ({} replicas): a scale-down below its ordinal makes it leave first",
                            pod.podName(), pod.statefulSet(), ar.result());
                } else {
                    log.warn("{} cannot read StatefulSet {} yet ({}); a stop counts as a restart while that lasts",
                            pod.podName(), pod.statefulSet(), ar.cause().getMessage());
                }
            });
        }
        return step;
    }

    /** What a stopping pod with {@code ordinal} does when the StatefulSet asks for {@code replicas}. */
    public static boolean scaledDown(int ordinal, int replicas) {
        return replicas > 0 && ordinal >= replicas;
    }

    @Override
    public Future<Void> get() {
        if (reader == null) return Future.succeededFuture();
        long deadline = System.nanoTime() + pod.leaveTimeoutMillis() * 1_000_000L;
        long apiTimeout = Math.min(API_TIMEOUT_MILLIS_MAX, Math.max(100, pod.leaveTimeoutMillis() / 2));
        return reader.replicas(apiTimeout).compose(replicas -> {
            if (!scaledDown(pod.ordinal(), replicas)) {
                log.info("{} stops as a restart (StatefulSet {} wants {} replicas): it stays a member", pod.podName(),
                        pod.statefulSet(), replicas);
                return Future.<Void>succeededFuture();
            }
            log.info("{} is removed by a scale-down to {} replicas: leaving the membership first", pod.podName(), replicas);
            return leave(deadline, replicas).compose(v -> vertx.executeBlocking(() -> {
                K8sPod.markLeft(config.dataDir(), pod.podName() + " left the cluster on a scale-down to " + replicas);
                return null;
            })).<Void>map(v -> {
                log.info("{} left the membership", pod.podName());
                return null;
            });
        }, e -> {
            log.warn("{} cannot read StatefulSet {} ({}); stopping as a restart: it stays a member", pod.podName(),
                    pod.statefulSet(), e.getMessage());
            return Future.<Void>succeededFuture();
        }).recover(e -> {
            log.warn("{}: {}", pod.podName(), e.getMessage());
            return Future.<Void>succeededFuture();
        }).eventually(() -> {
            reader.close();
            return Future.succeededFuture();
        });
    }

    private Future<Void> leave(long deadlineNanos, int replicas) {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
        Promise<Void> done = Promise.promise();
        attempt(client, deadlineNanos, replicas, done, 1);
        return done.future().eventually(() -> client.close());
    }

    private String self() {
        String host = "0.0.0.0".equals(config.httpHost()) || "::".equals(config.httpHost()) ? "127.0.0.1" : config.httpHost();
        return host + ":" + httpPort;
    }

    private void attempt(HttpClient client, long deadlineNanos, int replicas, Promise<Void> done, int n) {
        long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000L;
        if (leftMillis <= 0) {
            done.fail("the removal of " + pod.podName() + " was not confirmed within " + pod.leaveTimeoutMillis()
                    + " ms; it stays in the membership until removed with DELETE /v1/cluster/members/" + pod.podName());
            return;
        }
        long timeout = Math.max(1, Math.min(leftMillis, REQUEST_TIMEOUT_MILLIS_MAX));
        call(client, HttpMethod.GET, self(), "/v1/cluster", timeout)
                .compose(answer -> {
                    JsonObject cluster = new JsonObject(answer.substring(answer.indexOf(' ') + 1));
                    String successor = leads(cluster) ? successor(cluster, replicas) : null;
                    if (successor != null) {
                        // A leader that removed itself would leave the writes it still coordinates
                        // unanswered: hand leadership to a pod that stays, then leave through it.
                        return call(client, HttpMethod.POST, self(), "/v1/cluster/leader", timeout,
                                new JsonObject().put("to", successor).encode())
                                .map(moved -> "handing leadership to " + successor + ": " + moved);
                    }
                    String target = target(cluster, n);
                    return call(client, HttpMethod.DELETE, target, "/v1/cluster/members/" + config.nodeId(), timeout, null)
                            .map(removed -> target + " answered " + removed);
                })
                .onComplete(ar -> {
                    String answer = ar.succeeded() ? ar.result() : ar.cause().toString();
                    if (answer.contains(" answered 204 ") || answer.contains(" answered 404 ")) {
                        done.complete();
                    } else if (answer.contains(" answered 400 ")) {
                        done.fail("the membership refused to remove " + pod.podName() + ": " + answer);
                    } else {
                        if (n == 1 || n % 10 == 0) log.info("{} leaving, attempt {}: {}; retrying", pod.podName(), n, answer);
                        long pause = answer.startsWith("handing leadership to ") && answer.contains(": 200 ") ? 1 : RETRY_MILLIS;
                        vertx.setTimer(pause, t -> attempt(client, deadlineNanos, replicas, done, n + 1));
                    }
                });
    }

    private boolean leads(JsonObject cluster) {
        JsonObject leader = cluster.getJsonObject("leader");
        return leader != null && config.nodeId().equals(leader.getString("id"));
    }

    /** The voter of a pod that stays ({@code ordinal < replicas}) with the most of the log, or null. */
    private String successor(JsonObject cluster, int replicas) {
        String best = null;
        long bestMatch = -1;
        for (Object o : cluster.getJsonArray("members", new JsonArray())) {
            JsonObject m = (JsonObject) o;
            String id = m.getString("id");
            if (id.equals(config.nodeId()) || !Boolean.TRUE.equals(m.getBoolean("voter"))) continue;
            String prefix = pod.statefulSet() + "-";
            if (!id.startsWith(prefix) || !id.substring(prefix.length()).matches("[0-9]{1,6}")
                    || Integer.parseInt(id.substring(prefix.length())) >= replicas) continue;
            long match = m.getLong("matchIndex") == null ? 0 : m.getLong("matchIndex");
            if (match > bestMatch) {
                best = id;
                bestMatch = match;
            }
        }
        return best;
    }

    /**
     * Where to send the removal: the leader this node knows (itself when no other pod can lead),
     * else another member, in turn.
     */
    private String target(JsonObject cluster, int n) {
        JsonObject leader = cluster.getJsonObject("leader");
        if (leader != null) return config.nodeId().equals(leader.getString("id")) ? self() : leader.getString("httpAddress");
        List<String> others = new ArrayList<>();
        for (Object o : cluster.getJsonArray("members", new JsonArray())) {
            JsonObject m = (JsonObject) o;
            if (!config.nodeId().equals(m.getString("id"))) others.add(m.getString("httpAddress"));
        }
        return others.isEmpty() ? self() : others.get(n % others.size());
    }

    /** {@code "<status> <body>"}. */
    private static Future<String> call(HttpClient client, HttpMethod method, String hostPort, String uri, long timeout) {
        return call(client, method, hostPort, uri, timeout, null);
    }

    private static Future<String> call(HttpClient client, HttpMethod method, String hostPort, String uri, long timeout,
                                       String jsonBody) {
        int colon = hostPort.lastIndexOf(':');
        RequestOptions req = new RequestOptions().setMethod(method).setHost(hostPort.substring(0, colon))
                .setPort(Integer.parseInt(hostPort.substring(colon + 1))).setURI(uri).setTimeout(timeout);
        if (jsonBody != null) req.putHeader("Content-Type", "application/json");
        return client.request(req).compose(r -> (jsonBody == null ? r.send() : r.send(jsonBody))
                .compose(resp -> resp.body().map(b -> resp.statusCode() + " " + b)));
    }
}
