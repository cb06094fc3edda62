package io.cairn.k8s;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * Reads the StatefulSet's {@code spec.replicas} from the Kubernetes API with the pod's
 * service-account token ({@code GET /apis/apps/v1/namespaces/<ns>/statefulsets/<name>}; the Role in
 * {@code k8s/rbac.yaml} allows exactly that). HTTPS trusts only the mounted CA; plain {@code http://}
 * is accepted for tests. The token is read at each call: projected tokens are rotated.
 */
final class StatefulSetReader {
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private final K8sPod pod;
    private final HttpClient client;
    private final boolean tls;
    private final String host;
    private final int port;
    private final String path;

    /**
     * A reader with one HTTP client for all its calls (TLS set up once: at a stop there is little
     * time, and a cold JVM takes seconds for its first handshake). Throws IllegalStateException if
     * the CA cannot be read.
     */
    StatefulSetReader(Vertx vertx, K8sPod pod) {
        this.pod = pod;
        URI base = URI.create(pod.apiUrl());
        this.tls = "https".equals(base.getScheme());
        this.host = base.getHost();
        this.port = base.getPort() > 0 ? base.getPort() : tls ? 443 : 80;
        this.path = (base.getRawPath() == null ? "" : base.getRawPath()) + "/apis/apps/v1/namespaces/" + pod.namespace()
                + "/statefulsets/" + pod.statefulSet();
        HttpClientOptions options = new HttpClientOptions().setKeepAlive(true).setConnectTimeout(CONNECT_TIMEOUT_MILLIS);
        if (tls) {
            try {
                options.setSsl(true).setVerifyHost(true).setTrustOptions(new PemTrustOptions()
                        .addCertValue(io.vertx.core.buffer.Buffer.buffer(Files.readAllBytes(pod.caFile()))));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read the Kubernetes API's CA " + pod.caFile() + ": " + e);
            }
        }
        this.client = vertx.createHttpClient(options);
    }

    /** {@code spec.replicas} (1 when absent, the Kubernetes default); fails with a clear message. */
    Future<Integer> replicas(long timeoutMillis) {
        String token;
        try {
            token = Files.readString(pod.tokenFile(), StandardCharsets.UTF_8).trim();
        } catch (java.io.IOException e) {
            return Future.failedFuture(new IllegalStateException("cannot read the service-account token " + pod.tokenFile() + ": " + e));
        }
        RequestOptions req = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port)
                .setSsl(tls).setURI(path).setTimeout(timeoutMillis)
                .putHeader("Authorization", "Bearer " + token).putHeader("Accept", "application/json");
        return client.request(req)
                .compose(r -> r.send().compose(resp -> resp.body().map(body -> {
                    if (resp.statusCode() != 200) {
                        throw new IllegalStateException("GET " + path + " answered " + resp.statusCode() + ": "
                                + abbreviate(body.toString()));
                    }
                    JsonObject spec = new JsonObject(body).getJsonObject("spec", new JsonObject());
                    Integer n = spec.getInteger("replicas");
                    return n == null ? 1 : n;
                })));
    }

    void close() {
        client.close();
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
