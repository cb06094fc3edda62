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
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
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
 * HTTP/2 prior-knowledge preface, and WebSocket frames that break RFC 6455 on a change stream.
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

    // ------------------------------------------------------------------ WebSocket frames (RFC 6455)

    /** A change stream opened by hand; returns once the 101 arrived. */
    private static Raw changeStream() throws Exception {
        Raw c = Raw.open();
        c.write(("GET /v1/changes HTTP/1.1\r\nHost: cairn\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        Await.until("the 101 answer", BOUND, () -> c.text().contains("\r\n\r\n"), c::text);
        assertThat(c.text()).startsWith("HTTP/1.1 101 ");
        return c;
    }

    /** The server frames {@code c} received after the handshake, as {opcode, payload offset, payload length}. */
    private static List<int[]> frames(Raw c) {
        byte[] b = c.bytes();
        List<int[]> out = new ArrayList<>();
        int i = c.text().indexOf("\r\n\r\n") + 4;
        while (i + 2 <= b.length) {
            int len = b[i + 1] & 0x7F;
            int at = i + 2;
            if (len == 126) {
                if (at + 2 > b.length) break;
                len = ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
                at += 2;
            } else if (len == 127) {
                if (at + 8 > b.length) break;
                len = (int) ByteBuffer.wrap(b, at, 8).getLong();
                at += 8;
            }
            if (at + len > b.length) break;
            out.add(new int[] {b[i] & 0x0F, at, len});
            i = at + len;
        }
        return out;
    }

    /** The close code of the server's close frame, 1005 for one without a code, -1 without one. */
    private static int closeCode(Raw c) {
        byte[] b = c.bytes();
        for (int[] f : frames(c)) {
            if (f[0] == 0x8) return f[2] >= 2 ? ((b[f[1]] & 0xFF) << 8) | (b[f[1] + 1] & 0xFF) : 1005;
        }
        return -1;
    }

    /** One client frame: {@code first} is FIN/RSV/opcode; the payload masked when {@code masked}. */
    private static byte[] frame(int first, boolean masked, byte[] payload) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(first);
        assertThat(payload.length).as("a short payload").isLessThan(126);
        out.write((masked ? 0x80 : 0) | payload.length);
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        if (masked) out.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) out.write(masked ? payload[i] ^ mask[i & 3] : payload[i]);
        return out.toByteArray();
    }

    /**
     * Sends {@code badFrames} on a fresh change stream; the server must send a close frame with
     * {@code expectedCode} and close the connection (at once, or once the client's close frame came
     * back when {@code echoClose}, or else after the closing timeout), log no error, and go on serving.
     */
    private void assertClosedWith(int expectedCode, boolean echoClose, byte[] badFrames) throws Exception {
        Raw c = changeStream();
        c.write(badFrames);
        Await.until("a close frame or a closed connection", BOUND, () -> c.closed.get() || closeCode(c) != -1,
                () -> HexFormat.of().formatHex(c.bytes()));
        int code = closeCode(c);
        if (echoClose && code != -1) c.socket.write(Buffer.buffer(frame(0x88, true, new byte[] {(byte) (code >> 8), (byte) code})));
        c.awaitClosed();
        assertThat(code).as("the close code").isEqualTo(expectedCode);
        assertNoErrorLogged();
        assertStillServes();
        Raw next = changeStream();
        next.socket.close();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /**
     * Before: ignored, the stream stayed open. Vert.x decodes no text a handler does not ask for, and
     * Netty checks UTF-8 only in handlers Vert.x does not use.
     */
    @Test
    void aTextFrameOfInvalidUtf8IsClosedWith1007() throws Exception {
        assertClosedWith(1007, false, frame(0x81, true, new byte[] {(byte) 0xC0, (byte) 0xAF, 'x'}));
    }

    @Test
    void aTextMessageWhoseFragmentsEndInATruncatedCharacterIsClosedWith1007() throws Exception {
        byte[] euro = utf8("\u20ac");
        assertClosedWith(1007, true, concat(frame(0x01, true, utf8("ok")), frame(0x80, true, new byte[] {euro[0], euro[1]})));
    }

    /**
     * Before: ignored, the stream stayed open. Vert.x offered permessage-deflate, so Netty let
     * reserved bits through even when no extension was negotiated.
     */
    @Test
    void aFrameWithReservedBitsIsClosedWith1002() throws Exception {
        assertClosedWith(1002, true, frame(0xC1, true, utf8("x")));
        assertClosedWith(1002, false, frame(0xF1, true, utf8("x")));
    }

    /** Before: Netty refused the frame, but Vert.x closed the TCP connection without a close frame. */
    @Test
    void anUnmaskedFrameIsClosedWith1002() throws Exception {
        assertClosedWith(1002, false, frame(0x81, false, utf8("{\"x\":1}")));
    }

    /** Valid UTF-8 split inside a character across fragments, binary frames and pings: the stream stays open. */
    @Test
    void validFramesFromAClientAreDroppedAndTheStreamStaysOpen() throws Exception {
        Raw c = changeStream();
        byte[] euro = utf8("\u20ac");
        c.write(concat(frame(0x01, true, concat(utf8("a"), new byte[] {euro[0]})), frame(0x00, true, new byte[] {euro[1]}),
                frame(0x80, true, concat(new byte[] {euro[2]}, utf8("b"))), frame(0x82, true, new byte[] {(byte) 0xC0, (byte) 0xAF}),
                frame(0x81, true, utf8("{\"type\":\"frob\"}")), frame(0x89, true, utf8("still there?"))));
        Await.until("the pong", BOUND, () -> frames(c).stream().anyMatch(f -> f[0] == 0xA),
                () -> HexFormat.of().formatHex(c.bytes()));
        assertThat(closeCode(c)).isEqualTo(-1);
        assertThat(c.closed.get()).isFalse();
        c.socket.close();
        assertNoErrorLogged();
    }
}
