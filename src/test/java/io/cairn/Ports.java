package io.cairn;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Free TCP ports on 127.0.0.1 for nodes that tests start and restart, chosen below the kernel's
 * ephemeral range. A port from {@code bind(0)} is in that range, so until the node binds it (or
 * while a stopped node is down) any outgoing connection on the host may be given it as its own
 * port, and the node then fails with "Address already in use" (seen in ClusterFaultTest and
 * PeerTransportTest). Ports below the range are never handed out that way.
 */
public final class Ports {
    private static final int LOWEST = 10_000;
    private static final SplittableRandom RANDOM = new SplittableRandom();

    private Ports() {}

    /** {@code count} distinct free ports. */
    public static int[] free(int count) {
        int[] ports = new int[count];
        for (int i = 0; i < count; i++) {
            int p;
            do {
                p = freeBlock(1);
            } while (contains(ports, i, p));
            ports[i] = p;
        }
        return ports;
    }

    /** The first of {@code n} consecutive free ports. */
    public static synchronized int freeBlock(int n) {
        int top = ephemeralStart();
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int base = LOWEST + RANDOM.nextInt(top - LOWEST - n);
            boolean free = true;
            for (int p = base; p < base + n && free; p++) free = bindable(p);
            if (free) return base;
        }
        throw new IllegalStateException("no " + n + " consecutive free ports on 127.0.0.1 in " + LOWEST + ".." + top);
    }

    private static boolean contains(int[] ports, int n, int p) {
        for (int i = 0; i < n; i++) if (ports[i] == p) return true;
        return false;
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The low end of {@code net.ipv4.ip_local_port_range} (32768 if unreadable). */
    public static int ephemeralStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return Math.max(LOWEST + 1_000, low);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }
}
