package io.cairn.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.cairn.Cairn;
import io.cairn.config.ConfigLoader;
import io.cairn.fault.Await;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Protocol-level hostile input (issue 7) against a one-node Cairn in this JVM, over raw TCP: an
 * HTTP/2 prior-knowledge preface.
 */
class HostileProtocolTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    @TempDir static Path dir;
    private static Vertx vertx;
    private static Cairn cairn;
    private static NetClient net;
    private static WebClient http;
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        var config = ConfigLoader.load(dir, null, Map.of("CAIRN_DATA_DIR", dir.resolve("data").toString(),
                "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_RAFT_PORT", "0",
                "CAIRN_TICK_MS", "20", "CAIRN_API_INSTANCES", "1"));
        cairn = Cairn.start(vertx, config).await(60, TimeUnit.SECONDS);
        net = vertx.createNetClient();
        http = WebClient.create(vertx);
        Await.until("leadership", Duration.ofSeconds(30), () -> cairn.node().state().isLeader());
    }

    @AfterAll
    static void stop() throws Exception {
        if (cairn != null) cairn.stop().await(30, TimeUnit.SECONDS);
        if (vertx != null) vertx.close().await(30, TimeUnit.SECONDS);
    }

    @BeforeEach
    void recordLog() {
        logged.start();
        root().addAppender(logged);
    }

    @AfterEach
    void stopRecording() {
        root().detachAppender(logged);
    }

    private static ch.qos.logback.classic.Logger root() {
        return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    /** A raw connection that keeps every byte the server sent and whether it closed. */
    private static final class Raw {
        final NetSocket socket;
        final Buffer received = Buffer.buffer();
        final AtomicBoolean closed = new AtomicBoolean();

        Raw(NetSocket socket) {
            this.socket = socket;
        }

        static Raw open() throws Exception {
            NetSocket s = net.connect(cairn.httpPort(), "127.0.0.1").await(10, TimeUnit.SECONDS);
            Raw r = new Raw(s);
            s.handler(b -> {
                synchronized (r.received) {
                    r.received.appendBuffer(b);
                }
            });
            s.closeHandler(v -> r.closed.set(true));
            return r;
        }

        void write(byte[] bytes) throws Exception {
            socket.write(Buffer.buffer(bytes)).await(10, TimeUnit.SECONDS);
        }

        byte[] bytes() {
            synchronized (received) {
                return received.getBytes();
            }
        }

        String text() {
            return new String(bytes(), StandardCharsets.ISO_8859_1);
        }

        void awaitClosed() {
            Await.until("the server to close the connection", BOUND, closed::get, () -> HexFormat.of().formatHex(bytes()));
        }
    }

    private void assertNoErrorLogged() {
        assertThat(logged.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();
    }

    private static void assertStillServes() {
        var r = http.get(cairn.httpPort(), "127.0.0.1", "/health/live").send().await();
        assertThat(r.statusCode()).isEqualTo(200);
    }

    // ------------------------------------------------------------------ HTTP/2 prior knowledge

    /** The status of the HTTP/1.x answer at the start of {@code response}. */
    private static int status(String response) {
        assertThat(response).as("an HTTP/1.x status line").matches("(?s)HTTP/\\d\\.\\d \\d{3} .*");
        return Integer.parseInt(response.substring(9, 12));
    }

    /**
     * Before: Vert.x spoke HTTP/2 to a client that opened with the h2c preface (it sent a SETTINGS
     * frame and waited for the client's; no HTTP/1.1 answer, no close). Cairn speaks HTTP/1.1 only:
     * Vert.x's HTTP/1.x decoder now answers the preface's request line, a version it does not speak,
     * with 501 and a close (an empty body, before any Cairn code runs).
     */
    @Test
    void anHttp2PriorKnowledgePrefaceIsRefusedWith501AndAClose() throws Exception {
        Raw c = Raw.open();
        c.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        c.awaitClosed();
        assertThat(status(c.text())).isEqualTo(501);
        assertNoErrorLogged();
        assertStillServes();
    }

    /** Before: Vert.x answered {@code Upgrade: h2c} with 101 and went on in HTTP/2. Now the upgrade is ignored (RFC 9110 7.8). */
    @Test
    void anUpgradeToH2cIsIgnored() throws Exception {
        Raw c = Raw.open();
        c.write(("GET /health/live HTTP/1.1\r\nHost: cairn\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        Await.until("an answer", BOUND, () -> c.text().contains("\r\n\r\n"), c::text);
        assertThat(c.text()).startsWith("HTTP/1.1 200 ");
        c.socket.close();
        assertNoErrorLogged();
    }
}
