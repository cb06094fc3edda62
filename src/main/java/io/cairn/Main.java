package io.cairn;

import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.cairn.k8s.K8sPod;
import io.cairn.k8s.ScaleDownLeave;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of {@code java -jar target/cairn.jar}: {@code [--conf FILE]}, {@code --help}. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    private static final long STOP_SECONDS_MAX = 20;

    private Main() {}

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("bench")) {
            System.exit(io.cairn.bench.Bench.run(java.util.Arrays.copyOfRange(args, 1, args.length)));
            return;
        }
        Path conf = null;
        Path restoreFrom = null;
        int start = 0;
        if (args.length > 0 && args[0].equals("restore")) {
            if (args.length < 2) fail("restore needs a backup file: java -jar cairn.jar restore FILE [--conf FILE]");
            restoreFrom = Path.of(args[1]);
            start = 2;
        }
        for (int i = start; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.print(ConfigLoader.help());
                    return;
                }
                case "--conf" -> {
                    if (i + 1 >= args.length) fail("--conf needs a file");
                    conf = Path.of(args[++i]);
                }
                default -> fail("unknown argument '" + args[i] + "' (try --help)");
            }
        }
        CairnConfig config;
        Optional<K8sPod> pod;
        try {
            Map<String, String> settings = ConfigLoader.settings(Path.of("."), conf, System.getenv());
            pod = K8sPod.fromSettings(settings);
            config = ConfigLoader.build(pod.isPresent() ? pod.get().settings(settings) : settings);
            if (restoreFrom != null) {
                System.out.println(Restore.run(config, restoreFrom));
                return;
            }
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        } catch (java.io.IOException | RuntimeException e) {
            fail("restore failed: " + e.getMessage());
            return;
        }
        run(config, pod);
    }

    private static void run(CairnConfig config, Optional<K8sPod> pod) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Vertx vertx = Cairn.newVertx(registry);
        Cairn cairn;
        try {
            cairn = Cairn.start(vertx, config, registry).await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.error("cairn could not start: {}", e.getMessage(), e);
            try {
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception closeFailed) {
                log.warn("vert.x did not close: {}", closeFailed.toString());
            }
            System.exit(1);
            return;
        }
        log.info("cairn {} serving HTTP on {}:{}", config.nodeId(), config.httpHost(), cairn.httpPort());
        if (pod.isPresent()) cairn.beforeStop(ScaleDownLeave.start(vertx, pod.get(), config, cairn.httpPort()));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("cairn {} stopping", config.nodeId());
            try {
                cairn.stop().await(STOP_SECONDS_MAX, TimeUnit.SECONDS);
                vertx.close().await(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("cairn {} did not stop cleanly: {}", config.nodeId(), e.toString());
            }
        }, "cairn-shutdown"));
    }

    private static void fail(String message) {
        System.err.println("cairn: " + message);
        System.exit(2);
    }
}
