package io.cairn;

import io.cairn.config.CairnConfig;
import io.cairn.node.CairnNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code CAIRN_JOIN}: a node with a new data directory asks a running cluster to add it
 * ({@code POST /v1/cluster/members} with its own id and addresses), trying the given addresses in
 * turn with capped back-off until one accepts, then learns the members' peer addresses from the
 * answer so it can reply to the leader before the log has told it who is who. It never forms a
 * cluster of its own.
 */
final class Joiner {
    private static final Logger log = LoggerFactory.getLogger(Joiner.class);
    private static final long BACKOFF_MIN_MILLIS = 200;
    private static final long BACKOFF_MAX_MILLIS = 5_000;
    private static final long REQUEST_TIMEOUT_MILLIS = 10_000;

    private final Vertx vertx;
    private final CairnConfig config;
    private final CairnNode node;
    private final HttpClient client;
    private int attempt;
    private boolean stopped;

    Joiner(Vertx vertx, CairnConfig config, CairnNode node) {
        this.vertx = vertx;
        this.config = config;
        this.node = node;
        this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    }

    void start() {
        tryOnce();
    }

    void stop() {
        stopped = true;
        client.close();
    }

    private void tryOnce() {
        if (stopped || !node.state().membership().members().isEmpty()) {
            if (!stopped) log.info("{} is a member; joining is done", config.nodeId());
            return;
        }
        String target = config.join().get(attempt % config.join().size());
        attempt++;
        JsonObject body = new JsonObject().put("id", config.nodeId()).put("raftAddress", config.raftAddress())
                .put("httpAddress", config.httpAddress());
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI("http://" + target + "/v1/cluster/members")
                .putHeader("Content-Type", "application/json").setTimeout(REQUEST_TIMEOUT_MILLIS);
        client.request(options)
                .compose(req -> req.send(Buffer.buffer(body.encode())))
                .compose(resp -> resp.body().map(b -> Map.entry(resp.statusCode(), b)))
                .onComplete(ar -> {
                    if (ar.succeeded() && (ar.result().getKey() == 200 || ar.result().getKey() == 201)) {
                        joined(target, ar.result().getValue());
                        return;
                    }
                    String why = ar.succeeded() ? "HTTP " + ar.result().getKey() + " " + ar.result().getValue() : ar.cause().toString();
                    long delay = Math.min(BACKOFF_MAX_MILLIS, BACKOFF_MIN_MILLIS << Math.min(5, attempt));
                    log.info("{} could not join through {} ({}); retrying in {} ms", config.nodeId(), target, why, delay);
                    vertx.setTimer(delay, t -> tryOnce());
                });
    }

    private void joined(String target, Buffer answer) {
        Map<String, String> peers = new LinkedHashMap<>();
        try {
            JsonArray members = new JsonObject(answer).getJsonArray("members", new JsonArray());
            for (Object o : members) {
                JsonObject m = (JsonObject) o;
                peers.put(m.getString("id"), m.getString("raftAddress"));
            }
        } catch (RuntimeException e) {
            log.warn("{} joined through {} but could not read the member list: {}", config.nodeId(), target, e.toString());
        }
        node.learnPeers(peers);
        log.info("{} was added to the cluster through {}; members {}", config.nodeId(), target, peers.keySet());
        client.close();
    }
}
