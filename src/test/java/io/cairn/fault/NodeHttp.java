package io.cairn.fault;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/** Blocking HTTP calls to one node of a {@link ProcessCluster}, for test threads. */
final class NodeHttp {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private NodeHttp() {}

    private static HttpRequest request(ProcessCluster cluster, String id, String method, String path, String body, Duration timeout) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cluster.node(id).httpPort() + path))
                .timeout(timeout).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    /** One call; null when the node did not answer within {@code timeout}. */
    static HttpResponse<String> call(ProcessCluster cluster, String id, String method, String path, String body, Duration timeout) {
        try {
            return HTTP.send(request(cluster, id, method, path, body, timeout), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One call, not waited for. */
    static CompletableFuture<HttpResponse<String>> callAsync(ProcessCluster cluster, String id, String method, String path, String body,
                                                             Duration timeout) {
        return HTTP.sendAsync(request(cluster, id, method, path, body, timeout), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The members a node reports in {@code GET /v1/cluster}, as {@code id -> voter|learner}, sorted;
     * null if it does not answer.
     */
    static String members(ProcessCluster cluster, String id) {
        HttpResponse<String> r = call(cluster, id, "GET", "/v1/cluster", null, Duration.ofSeconds(2));
        if (r == null || r.statusCode() != 200) return null;
        TreeMap<String, String> m = new TreeMap<>();
        for (Object o : new JsonObject(r.body()).getJsonArray("members", new JsonArray())) {
            JsonObject member = (JsonObject) o;
            m.put(member.getString("id"), member.getBoolean("voter") ? "voter" : "learner");
        }
        return m.toString();
    }
}
