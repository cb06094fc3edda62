package io.cairn.api;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP listener instance; the node deploys one per core and Vert.x spreads connections over
 * them. It only translates: every request goes to the shared {@code service}, called on this
 * verticle's event loop.
 */
public final class ApiVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(ApiVerticle.class);
    /** Bounds on what a client can make the server hold before routing. */
    private static final int INITIAL_LINE_BYTES_MAX = 8192;
    private static final int HEADER_BYTES_MAX = 16384;
    private static final long DRAIN_SECONDS_MAX = 5;
    /**
     * How long a WebSocket the server closed waits for the client's close frame before closing TCP
     * (Vert.x's default is 10 s): a client that failed the protocol need not answer (RFC 6455 7.1.7).
     */
    private static final int WEBSOCKET_CLOSING_SECONDS = 2;

    private final String host;
    private final int port;
    private final Function<io.vertx.core.Vertx, Router> routerFactory;
    private HttpServer server;

    public ApiVerticle(String host, int port, Function<io.vertx.core.Vertx, Router> routerFactory) {
        this.host = host;
        this.port = port;
        this.routerFactory = routerFactory;
    }

    @Override
    public Future<?> start() {
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setPort(port)
                .setMaxInitialLineLength(INITIAL_LINE_BYTES_MAX)
                .setMaxHeaderSize(HEADER_BYTES_MAX)
                .setIdleTimeout(300)
                .setCompressionSupported(false)
                // HTTP/1.1 only: Vert.x would otherwise switch to HTTP/2 on the h2c preface (or an
                // Upgrade: h2c). Without it, Vert.x answers a version other than 1.0/1.1 (the preface's
                // request line) with 501, an empty body and a close, before the router: it leaves such
                // requests to the application only when a server-level WebSocket handler is set, and
                // change streams upgrade in the router.
                .setHttp2ClearTextEnabled(false)
                // Vert.x lets frames with RSV bits through whenever it offers a WebSocket extension,
                // negotiated or not; offering none, Netty refuses them (close 1002, RFC 6455 5.2)
                .setPerMessageWebSocketCompressionSupported(false)
                .setPerFrameWebSocketCompressionSupported(false)
                .setWebSocketClosingTimeout(WEBSOCKET_CLOSING_SECONDS);
        server = vertx.createHttpServer(options).requestHandler(routerFactory.apply(vertx));
        return server.listen()
                .onSuccess(s -> log.debug("HTTP listening on {}:{}", host, s.actualPort()))
                .recover(e -> Future.failedFuture(new IllegalStateException(
                        "cannot listen for HTTP on " + host + ":" + port + ": " + e.getMessage(), e)));
    }

    /** Stops accepting connections and lets requests in flight finish, for at most {@link #DRAIN_SECONDS_MAX}. */
    @Override
    public Future<?> stop() {
        return server == null ? Future.succeededFuture() : server.shutdown(DRAIN_SECONDS_MAX, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** The bound port (useful when the configured port was 0). */
    public int actualPort() {
        return server.actualPort();
    }
}
