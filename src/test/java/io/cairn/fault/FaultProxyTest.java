package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultProxyTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private Vertx vertx;
    private Target target;
    private FaultProxy proxy;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        target = Target.start(vertx);
        proxy = FaultProxy.start(vertx, "a->b", "127.0.0.1", target.port()).await(5, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        proxy.closeAndWait();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    /** An echo server that also remembers what it received and its sockets (to talk first). */
    static final class Target {
        final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
        final StringBuffer received = new StringBuffer();
        volatile boolean echo = true;
        NetServer server;

        static Target start(Vertx vertx) throws Exception {
            Target t = new Target();
            t.server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
            t.server.connectHandler(so -> {
                t.sockets.add(so);
                so.handler(b -> {
                    t.received.append(b.toString());
                    if (t.echo) so.write(b);
                });
                so.closeHandler(v -> t.sockets.remove(so));
            });
            t.server.listen().await(5, TimeUnit.SECONDS);
            return t;
        }

        int port() {
            return server.actualPort();
        }
    }

    /** A client socket whose received bytes and closing are visible to the test thread. */
    static final class Client {
        final StringBuffer received = new StringBuffer();
        final AtomicBoolean closed = new AtomicBoolean();
        NetSocket socket;

        static Client connect(Vertx vertx, int port) throws Exception {
            Client c = new Client();
            NetClient netClient = vertx.createNetClient();
            Promise<NetSocket> promise = Promise.promise();
            vertx.runOnContext(v -> netClient.connect(port, "127.0.0.1").onComplete(ar -> {
                if (ar.failed()) {
                    promise.fail(ar.cause());
                    return;
                }
                NetSocket so = ar.result();
                so.handler(b -> c.received.append(b.toString()));
                so.closeHandler(x -> c.closed.set(true));
                promise.complete(so);
            }));
            c.socket = promise.future().await(5, TimeUnit.SECONDS);
            return c;
        }

        void send(String s) {
            socket.write(Buffer.buffer(s));
        }
    }

    private static void awaitText(String what, StringBuffer buffer, String expected) {
        Await.until(what, WAIT, () -> buffer.toString().equals(expected), buffer::toString);
    }

    @Test
    void passForwardsBothWaysInOrder() throws Exception {
        Client c = Client.connect(vertx, proxy.port());
        StringBuilder sent = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            String chunk = i + ",";
            sent.append(chunk);
            c.send(chunk);
        }
        awaitText("the echo of every chunk", c.received, sent.toString());
        assertThat(target.received.toString()).isEqualTo(sent.toString());
        assertThat(proxy.stats().forwardedBytes()).isEqualTo(sent.length());
        assertThat(proxy.stats().backwardedBytes()).isEqualTo(sent.length());
    }

    @Test
    void dropAllClosesOpenConnectionsAndRefusesNewOnesUntilHealed() throws Exception {
        Client c = Client.connect(vertx, proxy.port());
        c.send("hi");
        awaitText("echo", c.received, "hi");
        proxy.dropAll().await(5, TimeUnit.SECONDS);
        Await.until("the open connection closed", WAIT, c.closed::get);
        Await.until("the target's side closed", WAIT, target.sockets::isEmpty);

        Client refused = Client.connect(vertx, proxy.port());
        Await.until("a new connection closed at once", WAIT, refused.closed::get);
        assertThat(proxy.stats().refused()).isEqualTo(1);

        proxy.pass().await(5, TimeUnit.SECONDS);
        Client healed = Client.connect(vertx, proxy.port());
        healed.send("again");
        awaitText("echo after healing", healed.received, "again");
    }

    @Test
    void stallHoldsBytesWithoutLosingThemAndDeliversOnHeal() throws Exception {
        Client c = Client.connect(vertx, proxy.port());
        c.send("a");
        awaitText("echo", c.received, "a");
        proxy.stall().await(5, TimeUnit.SECONDS);
        long forwarded = proxy.stats().forwardedBytes();
        c.send("bcd");
        Client late = Client.connect(vertx, proxy.port()); // accepted, not dialled onward yet
        late.send("xyz");
        Await.until("the proxy to hold 6 bytes", WAIT, () -> proxy.stats().heldBytes() == 6, () -> proxy.stats().toString());
        assertThat(proxy.stats().forwardedBytes()).isEqualTo(forwarded);
        assertThat(target.received.toString()).isEqualTo("a");
        assertThat(target.sockets).hasSize(1);

        proxy.pass().await(5, TimeUnit.SECONDS);
        awaitText("held bytes delivered and echoed", c.received, "abcd");
        awaitText("the late connection dialled and served", late.received, "xyz");
        assertThat(c.closed.get()).isFalse();
    }

    @Test
    void dropForwardBlackholesOneDirectionAndResetsTheTaintedConnectionAfterwards() throws Exception {
        target.echo = false;
        Client c = Client.connect(vertx, proxy.port());
        Await.until("the target to see the connection", WAIT, () -> target.sockets.size() == 1);
        proxy.setMode(FaultProxy.Mode.DROP_FORWARD).await(5, TimeUnit.SECONDS);
        c.send("lost");
        Await.until("4 bytes dropped", WAIT, () -> proxy.stats().droppedBytes() == 4, () -> proxy.stats().toString());
        target.sockets.get(0).write(Buffer.buffer("still here"));
        awaitText("the other direction passes", c.received, "still here");
        assertThat(target.received.toString()).isEmpty();

        proxy.pass().await(5, TimeUnit.SECONDS);
        Await.until("the connection with a hole reset", WAIT, c.closed::get);
        assertThat(proxy.stats().resets()).isEqualTo(1);
        Client fresh = Client.connect(vertx, proxy.port());
        fresh.send("ok");
        Await.until("a fresh connection passes", WAIT, () -> target.received.toString().equals("ok"));
    }

    @Test
    void dropBackwardBlackholesTheAnswers() throws Exception {
        Client c = Client.connect(vertx, proxy.port());
        proxy.setMode(FaultProxy.Mode.DROP_BACKWARD).await(5, TimeUnit.SECONDS);
        c.send("ping");
        awaitText("the request arrives", target.received, "ping");
        Await.until("the echo dropped", WAIT, () -> proxy.stats().droppedBytes() == 4, () -> proxy.stats().toString());
        assertThat(c.received.toString()).isEmpty();
    }

    @Test
    void delayHoldsEachChunkAndKeepsOrderWhenItChanges() throws Exception {
        Client c = Client.connect(vertx, proxy.port());
        proxy.delay(Duration.ofMillis(150), Duration.ofMillis(50));
        long start = System.nanoTime();
        c.send("slow");
        awaitText("the delayed echo", c.received, "slow");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));

        StringBuilder sent = new StringBuilder("slow");
        for (int i = 0; i < 200; i++) {
            if (i == 100) proxy.delay(Duration.ZERO); // later chunks must not overtake the held ones
            String chunk = "<" + i + ">";
            sent.append(chunk);
            c.send(chunk);
        }
        awaitText("every chunk, in order", c.received, sent.toString());
    }

    @Test
    void resetConnectionsClosesThemAndClientsMayReconnect() throws Exception {
        Client a = Client.connect(vertx, proxy.port());
        Client b = Client.connect(vertx, proxy.port());
        Await.until("two connections", WAIT, () -> proxy.stats().openConnections() == 2);
        proxy.resetConnections().await(5, TimeUnit.SECONDS);
        Await.until("both closed", WAIT, () -> a.closed.get() && b.closed.get());
        assertThat(proxy.stats().resets()).isEqualTo(2);
        assertThat(proxy.stats().openConnections()).isZero();
        Client again = Client.connect(vertx, proxy.port());
        again.send("x");
        awaitText("echo", again.received, "x");
    }

    @Test
    void aTargetThatIsDownClosesTheClient() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort();
        }
        FaultProxy toNowhere = FaultProxy.start(vertx, "a->dead", "127.0.0.1", deadPort).await(5, TimeUnit.SECONDS);
        try {
            Client c = Client.connect(vertx, toNowhere.port());
            c.send("anyone?");
            Await.until("the client closed", WAIT, c.closed::get);
        } finally {
            toNowhere.closeAndWait();
        }
    }

    @Test
    void closeReleasesThePortAndEveryConnection() throws Exception {
        Client c = Client.connect(vertx, proxy.port());
        Await.until("the target to see the connection", WAIT, () -> target.sockets.size() == 1);
        int port = proxy.port();
        proxy.closeAndWait();
        Await.until("the client closed", WAIT, c.closed::get);
        Await.until("the target's side closed", WAIT, target.sockets::isEmpty);
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThat(s.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void controlMethodsMayBeCalledFromAnEventLoop() throws Exception {
        Promise<Void> done = Promise.promise();
        AtomicLong timerFired = new AtomicLong();
        vertx.setTimer(1, id -> {
            timerFired.set(System.nanoTime());
            proxy.dropAll().compose(v -> proxy.pass()).onComplete(done);
        });
        done.future().await(5, TimeUnit.SECONDS);
        assertThat(timerFired.get()).isPositive();
        assertThat(proxy.mode()).isEqualTo(FaultProxy.Mode.PASS);
    }

    @Test
    void helloRulesTellSendersApartAndOnlyTheCutOneLosesItsLink() throws Exception {
        FaultProxy byHello = FaultProxy.start(vertx, "->b", "127.0.0.1", target.port(), FaultProxy.CAIRN_HELLO).await(5, TimeUnit.SECONDS);
        try {
            String helloA = new String(HostileInput.hello("cairn", "a"), java.nio.charset.StandardCharsets.ISO_8859_1);
            String helloC = new String(HostileInput.hello("cairn", "c"), java.nio.charset.StandardCharsets.ISO_8859_1);
            Client a = Client.connect(vertx, byHello.port());
            Client c = Client.connect(vertx, byHello.port());
            // a hello in two pieces: nothing reaches the target before the sender is known
            a.send(helloA.substring(0, 5));
            c.send(helloC + "c1");
            awaitText("c's bytes echoed", c.received, helloC + "c1");
            assertThat(target.received.toString()).as("only c's bytes reached the target").isEqualTo(helloC + "c1");
            a.send(helloA.substring(5) + "a1");
            awaitText("a's bytes echoed", a.received, helloA + "a1");

            byHello.setMode("a", FaultProxy.Mode.DROP_ALL).await(5, TimeUnit.SECONDS);
            Await.until("a's connection closed", WAIT, a.closed::get);
            assertThat(byHello.mode("a")).isEqualTo(FaultProxy.Mode.DROP_ALL);
            assertThat(byHello.mode("c")).isEqualTo(FaultProxy.Mode.PASS);
            c.send("c2");
            awaitText("c still passes", c.received, helloC + "c1c2");
            Client again = Client.connect(vertx, byHello.port());
            again.send(helloA);
            Await.until("a new connection from a closed once its hello arrived", WAIT, again.closed::get);
            assertThat(byHello.stats().refused()).isEqualTo(1);

            // garbage is from nobody known: the mode of everyone else applies
            Client garbage = Client.connect(vertx, byHello.port());
            garbage.send("GET / HTTP/1.1\r\n\r\n");
            awaitText("garbage passes while everyone else passes", garbage.received, "GET / HTTP/1.1\r\n\r\n");

            byHello.setMode(FaultProxy.Mode.PASS).await(5, TimeUnit.SECONDS);
            assertThat(byHello.mode("a")).as("setMode(mode) is for every sender").isEqualTo(FaultProxy.Mode.PASS);
            Client healed = Client.connect(vertx, byHello.port());
            healed.send(helloA + "a3");
            awaitText("a passes again", healed.received, helloA + "a3");
        } finally {
            byHello.closeAndWait();
        }
    }

    @Test
    void theHelloRuleReadsTheNodeIdOfAWholeHelloFrame() {
        Buffer hello = Buffer.buffer(HostileInput.hello("cluster-x", "n2"));
        assertThat(FaultProxy.helloSender(hello)).isEqualTo("n2");
        assertThat(FaultProxy.helloSender(hello.copy().appendString("more"))).as("bytes after the frame").isEqualTo("n2");
        for (int cut = 0; cut < hello.length(); cut++) {
            assertThat(FaultProxy.helloSender(hello.getBuffer(0, cut))).as("first %d bytes", cut).isNull();
        }
        assertThat(FaultProxy.helloSender(Buffer.buffer("GET / HTTP/1.1\r\n"))).isEqualTo(FaultProxy.UNKNOWN);
        assertThat(FaultProxy.helloSender(Buffer.buffer(HostileInput.frame(new byte[20])))).as("not the magic").isEqualTo(FaultProxy.UNKNOWN);
    }
}
