package io.cairn;

import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Entry point of {@code java -jar target/cairn.jar}: {@code [--conf FILE]}, {@code --help}. */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    private static final long STOP_SECONDS_MAX = 20;

    private Main() {}

    public static void main(String[] args) {
        Path conf = null;
        for (int i = 0; i < args.length; i++) {
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
        try {
            config = ConfigLoader.load(Path.of("."), conf, System.getenv());
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        run(config);
    }

    private static void run(CairnConfig config) {
        Vertx vertx = Vertx.vertx();
        Cairn cairn;
        try {
            cairn = Cairn.start(vertx, config).await(60, TimeUnit.SECONDS);
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
