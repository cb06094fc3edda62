package io.cairn.fault;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in for a Cairn node, for {@link ProcessCluster}'s own tests (JDK only, no Cairn code):
 * reads the CAIRN_* environment, appends a line to {@code <data>/starts}, answers
 * {@code /health/ready} and {@code /v1/cluster} (leader: the first peer listed), and on its raft
 * port greets every connection with its id and echoes what follows.
 */
public final class FakeNodeMain {
    private FakeNodeMain() {}

    public static void main(String[] args) throws Exception {
        String id = System.getenv("CAIRN_NODE_ID");
        int httpPort = Integer.parseInt(System.getenv("CAIRN_HTTP_PORT"));
        int raftPort = Integer.parseInt(System.getenv("CAIRN_RAFT_PORT"));
        Path data = Path.of(System.getenv("CAIRN_DATA_DIR"));
        String[] peers = System.getenv("CAIRN_PEERS").split(",");
        Files.writeString(data.resolve("starts"), "started " + ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.out.println("fake node " + id + " up, peers " + String.join(",", peers));

        List<String> members = new ArrayList<>();
        for (String p : peers) {
            String[] idAndAddress = p.split("=");
            String[] parts = idAndAddress[1].split(":");
            members.add("{\"id\":\"" + idAndAddress[0] + "\",\"raftAddress\":\"" + parts[0] + ":" + parts[1]
                    + "\",\"httpAddress\":\"" + parts[0] + ":" + parts[2] + "\"}");
        }
        String leader = peers[0].split("=")[0];
        String cluster = "{\"nodeId\":\"" + id + "\",\"term\":1,\"leader\":{\"id\":\"" + leader + "\"},\"members\":["
                + String.join(",", members) + "]}";

        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), httpPort), 16);
        http.createContext("/health/ready", ex -> answer(ex, "{\"ready\":true}"));
        http.createContext("/v1/cluster", ex -> answer(ex, cluster));
        http.start();

        ServerSocket raft = new ServerSocket(raftPort, 16, InetAddress.getLoopbackAddress());
        while (true) {
            Socket s = raft.accept();
            Thread t = new Thread(() -> echo(s, id));
            t.setDaemon(true);
            t.start();
        }
    }

    private static void answer(com.sun.net.httpserver.HttpExchange ex, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void echo(Socket s, String id) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            out.write((id + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            byte[] buf = new byte[4096];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // connection gone
        }
    }
}
