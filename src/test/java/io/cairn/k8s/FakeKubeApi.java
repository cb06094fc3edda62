package io.cairn.k8s;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PfxOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the Kubernetes API server: answers {@code GET /apis/apps/v1/namespaces/<ns>/
 * statefulsets/<name>} with {@code spec.replicas} (settable), only with the right bearer token, over
 * HTTPS with a certificate for 127.0.0.1 made by the JDK's keytool (its PEM is the pod's "mounted
 * CA"). It listens on 127.0.0.1 only and records the requests it served.
 */
final class FakeKubeApi implements AutoCloseable {
    private final Vertx vertx;
    private final HttpServer server;
    private final AtomicInteger replicas = new AtomicInteger();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final Path tokenFile;
    private final Path caFile;
    private final String token = "fake-token-" + System.nanoTime();

    private FakeKubeApi(Vertx vertx, Path dir, String namespace, String statefulSet, int replicas) throws Exception {
        this.vertx = vertx;
        this.replicas.set(replicas);
        Files.createDirectories(dir);
        this.tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, token + "\n", StandardCharsets.UTF_8);
        Path keystore = dir.resolve("api.p12");
        this.caFile = dir.resolve("ca.crt");
        keytool("-genkeypair", "-alias", "api", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=fake-kube-api",
                "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", keystore.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit");
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keystore)) {
            ks.load(in, "changeit".toCharArray());
        }
        writePem(ks.getCertificate("api"), caFile);
        String path = "/apis/apps/v1/namespaces/" + namespace + "/statefulsets/" + statefulSet;
        HttpServerOptions options = new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
                .setKeyCertOptions(new PfxOptions().setPath(keystore.toString()).setPassword("changeit"));
        this.server = vertx.createHttpServer(options).requestHandler(req -> {
            requests.add(req.method() + " " + req.path());
            if (!("Bearer " + token).equals(req.getHeader("Authorization"))) {
                req.response().setStatusCode(401).end("{\"kind\":\"Status\",\"code\":401}");
            } else if (!req.path().equals(path)) {
                req.response().setStatusCode(404).end("{\"kind\":\"Status\",\"code\":404}");
            } else {
                JsonObject sts = new JsonObject().put("kind", "StatefulSet")
                        .put("metadata", new JsonObject().put("name", statefulSet).put("namespace", namespace))
                        .put("spec", new JsonObject().put("replicas", this.replicas.get()));
                req.response().putHeader("Content-Type", "application/json").end(sts.encode());
            }
        }).listen().await(30, TimeUnit.SECONDS);
    }

    static FakeKubeApi start(Vertx vertx, Path dir, String namespace, String statefulSet, int replicas) throws Exception {
        return new FakeKubeApi(vertx, dir, namespace, statefulSet, replicas);
    }

    /** Writes the PEM of some CA certificate of the JDK's trust store (not the fake's) to {@code file}. */
    static Path someOtherCa(Path file) throws Exception {
        java.security.KeyStore cacerts = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
        try (var in = Files.newInputStream(Path.of(System.getProperty("java.home"), "lib", "security", "cacerts"))) {
            cacerts.load(in, null);
        }
        writePem(cacerts.getCertificate(cacerts.aliases().nextElement()), file);
        return file;
    }

    private static void writePem(java.security.cert.Certificate cert, Path file) throws Exception {
        String body = java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded());
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n", StandardCharsets.US_ASCII);
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.add("-J-XX:TieredStopAtLevel=1");
        cmd.add("-J-XX:+UseSerialGC");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("keytool failed: " + out);
    }

    /** The URL a pod is given as {@code CAIRN_K8S_API_URL}. */
    String url() {
        return "https://127.0.0.1:" + server.actualPort();
    }

    Path tokenFile() {
        return tokenFile;
    }

    Path caFile() {
        return caFile;
    }

    void replicas(int n) {
        replicas.set(n);
    }

    List<String> requests() {
        return List.copyOf(requests);
    }

    @Override
    public void close() throws Exception {
        server.close().await(10, TimeUnit.SECONDS);
    }
}
