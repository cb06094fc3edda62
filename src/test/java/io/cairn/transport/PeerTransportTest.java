package io.cairn.transport;

import static io.cairn.transport.TestNode.payload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PeerTransportTest {
    private static final String CLUSTER = "c1";

    private Vertx vertx;

    @BeforeEach
    void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void closeVertx() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private TestNode node(String id) throws Exception {
        return TestNode.start(vertx, TransportOptions.of(CLUSTER, id, "127.0.0.1", 0));
    }

    private static void connect(TestNode... nodes) throws Exception {
        Map<String, String> peers = new HashMap<>();
        for (TestNode n : nodes) peers.put(n.id, n.address());
        for (TestNode n : nodes) n.run(() -> n.transport.setPeers(peers));
    }

    /** Sends {@code count} frames of mixed sizes (a few large enough to fill the socket's write queue). */
    private static void sendMany(TestNode from, String to, int count) throws Exception {
        Random random = new Random(to.hashCode());
        from.run(() -> {
            for (int seq = 0; seq < count; seq++) {
                int bytes = seq % 500 == 7 ? 300_000 : 4 + random.nextInt(2_000);
                from.transport.send(to, payload(seq, bytes));
            }
        });
    }

    private static void assertInOrder(TestNode at, String from, int count) throws Exception {
        at.until(count + " frames from " + from, () -> at.receivedFrom(from) >= count);
        List<Integer> seqs = at.call(() -> List.copyOf(at.received.get(from)));
        assertThat(seqs).isEqualTo(IntStream.range(0, count).boxed().toList());
        assertThat(at.call(() -> at.corrupt)).isZero();
    }

    @Test
    void twoNodesExchangeThousandsOfFramesInOrder() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        connect(a, b);
        sendMany(a, "b", 5_000);
        sendMany(b, "a", 5_000);
        assertInOrder(b, "a", 5_000);
        assertInOrder(a, "b", 5_000);
        PeerStats stats = a.call(() -> a.transport.stats().peers().get("b"));
        assertThat(stats.sentMessages()).isEqualTo(5_000);
        assertThat(stats.droppedMessages()).isZero();
        assertThat(stats.connects()).isEqualTo(1);
        assertThat(stats.receivedMessages()).isEqualTo(5_000);
        assertThat(stats.connected()).isTrue();
    }

    @Test
    void threeNodesExchangeThousandsOfFramesInOrder() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        TestNode c = node("c");
        connect(a, b, c);
        List<TestNode> all = List.of(a, b, c);
        for (TestNode from : all) {
            for (TestNode to : all) if (from != to) sendMany(from, to.id, 2_000);
        }
        for (TestNode at : all) {
            for (TestNode from : all) if (from != at) assertInOrder(at, from.id, 2_000);
        }
    }

    @Test
    void reconnectsAfterTheListenerRestarts() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        connect(a, b);
        sendMany(a, "b", 10);
        assertInOrder(b, "a", 10);
        int port = b.transport.port();
        b.undeploy();

        // a keeps dialling the free port meanwhile, and a dial can briefly hold it (TCP
        // self-connection, which the transport closes at once): bind until it is free, with a deadline
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        TestNode b2 = null;
        while (b2 == null) {
            try {
                b2 = TestNode.start(vertx, TransportOptions.of(CLUSTER, "b", "127.0.0.1", port));
            } catch (java.net.BindException e) {
                if (System.nanoTime() > deadline) throw e;
            }
        }
        TestNode restarted = b2;
        a.run(() -> vertx.setPeriodic(10, id -> a.transport.send("b", payload(1, 8))));
        restarted.until("a frame from a after the restart", () -> restarted.receivedFrom("a") > 0);
        assertThat(a.call(() -> a.transport.stats().peers().get("b").connects())).isEqualTo(2);
    }

    @Test
    void aNodeOfAnotherClusterCannotPass() throws Exception {
        TestNode a = node("a");
        TestNode x = TestNode.start(vertx, TransportOptions.of("other", "x", "127.0.0.1", 0));
        x.run(() -> x.transport.setPeers(Map.of("a", a.address())));
        a.run(() -> a.transport.setPeers(Map.of("x", x.address())));
        x.run(() -> x.transport.send("a", payload(1, 10)));
        a.run(() -> a.transport.send("x", payload(2, 10)));
        a.until("a refuses x", () -> a.transport.stats().refusedConnections() >= 1);
        x.until("x refuses a", () -> x.transport.stats().refusedConnections() >= 1);
        assertThat(a.call(() -> a.received)).isEmpty();
        assertThat(x.call(() -> x.received)).isEmpty();
        assertThat(x.call(() -> x.transport.stats().peers().get("a").connected())).isFalse();
    }

    @Test
    void aDialledAddressAnsweringAsAnotherNodeIsNotUsed() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        a.run(() -> a.transport.setPeers(Map.of("c", b.address())));
        a.run(() -> a.transport.send("c", payload(1, 10)));
        // counted at accept: a closes each connection as soon as b's hello names b
        b.until("b answered a", () -> b.transport.stats().acceptedConnections() >= 1);
        a.until("a gave up on that connection", () -> a.transport.stats().peers().get("c").failures() >= 2);
        assertThat(b.call(() -> b.received)).isEmpty();
        assertThat(a.call(() -> a.transport.stats().peers().get("c").connects())).isZero();
    }

    @Test
    void garbageAndOversizedFramesCloseOnlyTheirConnection() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        connect(a, b);
        int port = a.transport.port();

        assertClosedAfter(port, out -> out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        assertClosedAfter(port, out -> out.writeInt(0));
        assertClosedAfter(port, out -> {
            handshake(port, out);
            out.writeInt(Integer.MAX_VALUE);
        });
        assertClosedAfter(port, out -> {
            handshake(port, out);
            out.writeInt((16 << 20) + 2);
        });
        assertClosedAfter(port, out -> {
            handshake(port, out);
            out.writeInt(3);
            out.writeByte(9);
            out.writeShort(0);
        });
        assertClosedAfter(port, out -> out.write(hello(CLUSTER, "z", (byte) 2).getBytes()));
        assertClosedAfter(port, out -> out.write(hello("other", "z", Frames.VERSION).getBytes()));

        a.until("no inbound connection left but b's", () -> a.transport.stats().inboundConnections() <= 1);
        sendMany(b, "a", 100);
        assertInOrder(a, "b", 100);
        assertThat(a.call(() -> a.transport.stats().malformedConnections())).isGreaterThanOrEqualTo(5);
        assertThat(a.call(() -> a.transport.stats().refusedConnections())).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aConnectionWithoutHelloIsClosedAfterTheHandshakeTimeout() throws Exception {
        TestNode a = TestNode.start(vertx, TransportOptions.of(CLUSTER, "a", "127.0.0.1", 0).withTimeoutsMillis(1_000, 100));
        assertClosedAfter(a.transport.port(), out -> out.writeInt(10));
        assertThat(a.call(() -> a.transport.stats().refusedConnections())).isEqualTo(1);
    }

    @Test
    void theQueueStaysWithinItsBoundsWhileThePeerIsDown() throws Exception {
        String dead = "127.0.0.1:" + io.cairn.Ports.free(1)[0];
        TestNode a = TestNode.start(vertx, TransportOptions.of(CLUSTER, "a", "127.0.0.1", 0)
                .withFrameBytesMax(2_000).withQueue(10_000, 1_000).withBackoffMillis(5, 20));
        a.run(() -> a.transport.setPeers(Map.of("down", dead)));
        a.run(() -> {
            for (int i = 0; i < 100; i++) a.transport.send("down", payload(i, 995));
        });
        PeerStats stats = a.call(() -> a.transport.stats().peers().get("down"));
        assertThat(stats.queuedMessages()).isEqualTo(10);
        assertThat(stats.queuedBytes()).isEqualTo(10_000);
        assertThat(stats.droppedMessages()).isEqualTo(90);

        a.until("several failed dials", () -> a.transport.stats().peers().get("down").failures() >= 3);
        a.run(() -> {
            for (int i = 0; i < 100; i++) a.transport.send("down", payload(i, 995));
        });
        stats = a.call(() -> a.transport.stats().peers().get("down"));
        assertThat(stats.queuedBytes()).isLessThanOrEqualTo(10_000);
        assertThat(stats.queuedMessages() + stats.droppedMessages()).isEqualTo(200);
        assertThat(stats.connected()).isFalse();

        assertThatThrownBy(() -> a.call(() -> {
            a.transport.send("down", new byte[2_001]);
            return null;
        })).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> a.transport.send("down", new byte[1])).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void theMessageCountBoundsTheQueueToo() throws Exception {
        TestNode a = TestNode.start(vertx, TransportOptions.of(CLUSTER, "a", "127.0.0.1", 0).withQueue(1 << 25, 5));
        a.run(() -> a.transport.setPeers(Map.of("down", "127.0.0.1:1")));
        List<Boolean> taken = a.call(() -> {
            List<Boolean> t = new java.util.ArrayList<>();
            for (int i = 0; i < 20; i++) t.add(a.transport.send("down", payload(i, 4)));
            return t;
        });
        PeerStats stats = a.call(() -> a.transport.stats().peers().get("down"));
        assertThat(stats.queuedMessages()).isEqualTo(5);
        assertThat(stats.droppedMessages()).isEqualTo(15);
        assertThat(taken.subList(0, 5)).containsOnly(true);
        assertThat(taken.subList(5, 20)).containsOnly(false);
        assertThat(a.call(() -> a.transport.send("nobody", payload(0, 4)))).isFalse();
    }

    /** Forwarded writes wait on the connection they went out on: its loss is told once, with the peer's id. */
    @Test
    void theLossOfAConnectionThatWasUpIsTold() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        List<String> lost = new java.util.concurrent.CopyOnWriteArrayList<>();
        a.run(() -> a.transport.connectionLostHandler(lost::add));
        connect(a, b);
        sendMany(a, "b", 10);
        assertInOrder(b, "a", 10);
        assertThat(lost).isEmpty();
        b.undeploy();
        a.until("a heard that b is gone", () -> !lost.isEmpty());
        assertThat(lost).containsExactly("b");
        // failing redials of a peer never reached again are not losses
        a.run(() -> a.transport.send("b", payload(11, 4)));
        a.until("a redialled b and failed", () -> a.transport.stats().peers().get("b").failures() >= 3);
        assertThat(lost).containsExactly("b");
        a.run(() -> a.transport.setPeers(Map.of()));
        assertThat(lost).containsExactly("b", "b"); // removing the peer drops what waited for it
    }

    @Test
    void aRemovedPeerLosesItsConnections() throws Exception {
        TestNode a = node("a");
        TestNode b = node("b");
        connect(a, b);
        sendMany(a, "b", 10);
        sendMany(b, "a", 10);
        assertInOrder(b, "a", 10);
        assertInOrder(a, "b", 10);

        a.run(() -> a.transport.setPeers(Map.of()));
        b.until("b has no connection from a", () -> b.transport.stats().inboundConnections() == 0);
        a.until("a has no connection from b", () -> a.transport.stats().inboundConnections() == 0);
        a.run(() -> a.transport.send("b", payload(1, 4)));
        TransportStats stats = a.call(() -> a.transport.stats());
        assertThat(stats.peers()).isEmpty();
        assertThat(stats.unknownPeerDrops()).isEqualTo(1);
    }

    // ---- raw sockets

    private interface Script {
        void write(DataOutputStream out) throws IOException;
    }

    private static io.vertx.core.buffer.Buffer hello(String cluster, String node, byte version) {
        io.vertx.core.buffer.Buffer frame = Frames.hello(cluster, node);
        frame.setByte(4, version);
        return frame;
    }

    /** Writes a valid hello and reads the answer, which must come from node a of our cluster. */
    private static void handshake(int port, DataOutputStream out) throws IOException {
        out.write(hello(CLUSTER, "raw", Frames.VERSION).getBytes());
        out.flush();
        DataInputStream in = currentIn.get();
        int length = in.readInt();
        byte[] body = new byte[length];
        in.readFully(body);
        assertThat(body[0]).isEqualTo(Frames.VERSION);
        Frames.Hello answer = Frames.decodeHello(io.vertx.core.buffer.Buffer.buffer(body).slice(1, length));
        assertThat(answer).isEqualTo(new Frames.Hello(CLUSTER, "a"));
    }

    private static final ThreadLocal<DataInputStream> currentIn = new ThreadLocal<>();

    /** Connects, runs the script, and expects the transport to close the connection. */
    private static void assertClosedAfter(int port, Script script) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(TestNode.DEADLINE_SECONDS));
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            currentIn.set(in);
            script.write(out);
            out.flush();
            assertThat(readUntilClosed(in)).isTrue();
        } finally {
            currentIn.remove();
        }
    }

    private static boolean readUntilClosed(DataInputStream in) throws IOException {
        try {
            while (in.read() != -1) {
                // drain until end of stream
            }
            return true;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }
}
