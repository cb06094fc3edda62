package io.cairn.fault;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One raw TCP exchange for the hostile-input fuzzer: connect, write bytes as given (no client
 * library in the way, so anything can be sent), then wait, within a bound, for what the server
 * does: a complete HTTP response, a close, or nothing (stuck).
 */
final class RawExchange {
    /** What the server did. {@code status} is the HTTP status for {@link Kind#RESPONSE}. */
    record Result(Kind kind, int status, String head, byte[] rest) {
        static Result closed() {
            return new Result(Kind.CLOSED, 0, "", new byte[0]);
        }

        static Result stuck(String what) {
            return new Result(Kind.STUCK, 0, what, new byte[0]);
        }

        @Override
        public String toString() {
            return kind == Kind.RESPONSE ? "HTTP " + status : kind.name().toLowerCase(Locale.ROOT) + (head.isEmpty() ? "" : " (" + head + ")");
        }
    }

    enum Kind { RESPONSE, CLOSED, STUCK, CONNECT_FAILED }

    private RawExchange() {}

    static Socket connect(int port, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.setSoLinger(true, 0); // close with RST: no TIME_WAIT pile-up over thousands of cases
        s.connect(new InetSocketAddress("127.0.0.1", port), timeoutMillis);
        return s;
    }

    /**
     * Sends {@code request} on a fresh connection (then half-closes it when {@code halfClose}) and
     * reads one HTTP response, or the close, within {@code boundMillis}.
     */
    static Result http(int port, byte[] request, boolean halfClose, long boundMillis) {
        try (Socket s = connect(port, 2_000)) {
            try {
                s.getOutputStream().write(request);
                s.getOutputStream().flush();
                if (halfClose) s.shutdownOutput();
            } catch (IOException e) {
                // the server may close while a large request is still being written: that is an answer
                return readResponse(s, boundMillis, true);
            }
            return readResponse(s, boundMillis, false);
        } catch (IOException e) {
            return new Result(Kind.CONNECT_FAILED, 0, e.toString(), new byte[0]);
        }
    }

    /** Reads one HTTP response (head and body) or the close, within {@code boundMillis}. */
    static Result readResponse(Socket s, long boundMillis, boolean writeFailed) {
        long deadline = System.nanoTime() + boundMillis * 1_000_000;
        try {
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int state = 0;
            while (state < 4) {
                int b = read(s, in, deadline);
                if (b < 0) return head.size() == 0 ? Result.closed() : Result.stuck("closed in the middle of a response head");
                head.write(b);
                if (head.size() > 65_536) return Result.stuck("response head over 64 KiB");
                state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                        : b == '\r' ? 1 : 0;
            }
            String text = head.toString(StandardCharsets.ISO_8859_1);
            int status = parseStatus(text);
            if (status < 0) return Result.stuck("not an HTTP response: " + abbreviate(text));
            byte[] body = readBody(s, in, text, status, deadline);
            return new Result(Kind.RESPONSE, status, text, body);
        } catch (SocketTimeoutException e) {
            return Result.stuck("no response or close within " + boundMillis + " ms" + (writeFailed ? " (after a failed write)" : ""));
        } catch (IOException e) {
            return Result.closed(); // reset: a close
        }
    }

    private static int read(Socket s, InputStream in, long deadline) throws IOException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) throw new SocketTimeoutException("deadline");
        s.setSoTimeout((int) Math.max(1, left));
        return in.read();
    }

    /** The status of a status line {@code <version> <3 digits> ...}; the version is whatever the server echoed. */
    private static int parseStatus(String head) {
        int space = head.indexOf(' ');
        if (space <= 0 || head.length() < space + 4 || head.indexOf('/') < 0 || head.indexOf('/') > space) return -1;
        try {
            return Integer.parseInt(head.substring(space + 1, space + 4));
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static byte[] readBody(Socket s, InputStream in, String head, int status, long deadline) throws IOException {
        String lower = head.toLowerCase(Locale.ROOT);
        if (status == 204 || status == 304 || status < 200) return new byte[0];
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int cl = lower.indexOf("\ncontent-length:");
        if (cl >= 0) {
            int end = lower.indexOf('\r', cl);
            long n = Long.parseLong(lower.substring(cl + 16, end).trim());
            for (long i = 0; i < n; i++) {
                int b = read(s, in, deadline);
                if (b < 0) break;
                if (body.size() < 1 << 20) body.write(b);
            }
            return body.toByteArray();
        }
        if (lower.contains("\ntransfer-encoding: chunked")) {
            while (true) {
                StringBuilder line = new StringBuilder();
                for (int b; (b = read(s, in, deadline)) != '\n'; ) {
                    if (b < 0) return body.toByteArray();
                    if (b != '\r') line.append((char) b);
                }
                int size = Integer.parseInt(line.toString().split(";")[0].trim(), 16);
                for (int i = 0; i < size + 2; i++) {
                    int b = read(s, in, deadline);
                    if (b < 0) return body.toByteArray();
                    if (i < size && body.size() < 1 << 20) body.write(b);
                }
                if (size == 0) return body.toByteArray();
            }
        }
        return body.toByteArray(); // no length: the response is complete once the head arrived for our purposes
    }

    static String abbreviate(String s) {
        String t = s.replace("\r", "\\r").replace("\n", "\\n");
        return t.length() > 160 ? t.substring(0, 160) + "..." : t;
    }

    /** Printable form of bytes for a report: ASCII as is, the rest as \xNN; cut to {@code max} chars. */
    static String show(byte[] bytes, int max) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            int c = b & 0xff;
            if (c >= 0x20 && c < 0x7f) sb.append((char) c);
            else if (c == '\r') sb.append("\\r");
            else if (c == '\n') sb.append("\\n");
            else sb.append(String.format("\\x%02x", c));
            if (sb.length() >= max) return sb.append("...(").append(bytes.length).append(" bytes)").toString();
        }
        return sb.toString();
    }
}
