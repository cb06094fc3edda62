package io.cairn.k8s;

import io.cairn.config.CairnConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
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
 * <p><b>Leaving.</b> {@code DELETE /v1/cluster/members/<self>} on its own HTTP listener, which
 * forwards it to the leader (or, on the leader, removes the leader, which then steps down and hands
 * off). {@code 204} means the removal committed; {@code 404} that it already had. A refusal that
 * may pass (another change in progress when pods leave in parallel, no leader, a timeout) is retried
 * until {@code CAIRN_K8S_LEAVE_TIMEOUT_MS}. Once removed, the pod writes {@link K8sPod#LEFT_MARK}
 * into its data directory, so if the StatefulSet grows again and the old volume comes back, the pod
 * clears it and joins as a new member. Every failure is logged and the stop goes on.
 */
public final class ScaleDownLeave implements Supplier<Future<?>> {
    private static final Logger log = LoggerFactory.getLogger(ScaleDownLeave.class);
    private static final long RETRY_MILLIS = 250;
    private static final long API_TIMEOUT_MILLIS_MAX = 5_000;

    private final Vertx vertx;
    private final K8sPod pod;
    private final CairnConfig config;
    private final int httpPort;

    /** {@code httpPort}: the port this node's HTTP API is bound to. */
    public ScaleDownLeave(Vertx vertx, K8sPod pod, CairnConfig config, int httpPort) {
        this.vertx = vertx;
        this.pod = pod;
        this.config = config;
        this.httpPort = httpPort;
    }

    /** What a stopping pod with {@code ordinal} does when the StatefulSet asks for {@code replicas}. */
    public static boolean scaledDown(int ordinal, int replicas) {
        return replicas > 0 && ordinal >= replicas;
    }

    @Override
    public Future<Void> get() {
        long deadline = System.nanoTime() + pod.leaveTimeoutMillis() * 1_000_000L;
        long apiTimeout = Math.min(API_TIMEOUT_MILLIS_MAX, Math.max(100, pod.leaveTimeoutMillis() / 2));
        return new StatefulSetReader(vertx, pod).replicas(apiTimeout).compose(replicas -> {
            if (!scaledDown(pod.ordinal(), replicas)) {
                log.info("{} stops as a restart (StatefulSet {} wants {} replicas): it stays a member", pod.podName(),
                        pod.statefulSet(), replicas);
                return Future.<Void>succeededFuture();
            }
            log.info("{} is removed by a scale-down to {} replicas: leaving the membership first", pod.podName(), replicas);
            return leave(deadline).compose(v -> vertx.executeBlocking(() -> {
                K8sPod.markLeft(config.dataDir(), pod.podName() + " left the cluster on a scale-down to " + replicas);
                return null;
            })).<Void>map(v -> {
                log.info("{} left the membership", pod.podName());
                return null;
            });
        }, e -> {
            log.warn("{} cannot read StatefulSet {} ({}); stopping as a restart: it stays a member", pod.podName(),
                    pod.statefulSet(), e.getMessage());
            return Future.failedFuture(e);
        }).recover(e -> {
            log.warn("{}: {}", pod.podName(), e.getMessage());
            return Future.succeededFuture();
        });
    }

    private Future<Void> leave(long deadlineNanos) {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
        Promise<Void> done = Promise.promise();
        attempt(client, deadlineNanos, done, 1);
        return done.future().eventually(() -> client.close());
    }

    private void attempt(HttpClient client, long deadlineNanos, Promise<Void> done, int n) {
        long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000L;
        if (leftMillis <= 0) {
            done.fail("the removal of " + pod.podName() + " was not confirmed within " + pod.leaveTimeoutMillis()
                    + " ms; it stays in the membership until removed with DELETE /v1/cluster/members/" + pod.podName());
            return;
        }
        String host = "0.0.0.0".equals(config.httpHost()) || "::".equals(config.httpHost()) ? "127.0.0.1" : config.httpHost();
        RequestOptions req = new RequestOptions().setMethod(HttpMethod.DELETE).setHost(host).setPort(httpPort)
                .setURI("/v1/cluster/members/" + config.nodeId()).setTimeout(Math.max(1, leftMillis));
        client.request(req).compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode() + " " + b)))
                .onComplete(ar -> {
                    String answer = ar.succeeded() ? ar.result() : ar.cause().toString();
                    if (answer.startsWith("204 ") || answer.startsWith("404 ")) {
                        done.complete();
                    } else if (answer.startsWith("400 ")) {
                        done.fail("the membership refused to remove " + pod.podName() + ": " + answer);
                    } else {
                        if (n == 1 || n % 20 == 0) log.info("{} leaving: attempt {} answered {}; retrying", pod.podName(), n, answer);
                        vertx.setTimer(RETRY_MILLIS, t -> attempt(client, deadlineNanos, done, n + 1));
                    }
                });
    }
}
