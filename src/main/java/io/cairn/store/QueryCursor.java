package io.cairn.store;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The opaque {@code after} cursor of an index query: the position (all index values and the key)
 * of the last document of a page, plus the index name and direction it belongs to, as base64url.
 * The next page starts strictly after that position, so a walk neither skips nor repeats a
 * document that did not change in between.
 */
record QueryCursor(String index, boolean desc, byte[][] values, byte[] key) {
    private static final int VERSION = 1;

    String encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(VERSION);
        bytes(out, index.getBytes(StandardCharsets.UTF_8));
        out.write(desc ? 1 : 0);
        out.write(values.length);
        for (byte[] v : values) bytes(out, v);
        bytes(out, key);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(out.toByteArray());
    }

    private static void bytes(ByteArrayOutputStream out, byte[] b) {
        int n = b.length;
        while ((n & ~0x7F) != 0) {
            out.write((n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out.write(n);
        out.write(b, 0, b.length);
    }

    /** @throws CairnException {@code invalid_query} if {@code text} is not a cursor this code made */
    static QueryCursor decode(String text, int maxChars) {
        if (text.length() > maxChars) throw bad();
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw bad();
        }
        ByteBuffer in = ByteBuffer.wrap(raw);
        try {
            if ((in.get() & 0xFF) != VERSION) throw bad();
            String index = new String(bytes(in), StandardCharsets.UTF_8);
            int d = in.get() & 0xFF;
            if (d > 1) throw bad();
            int n = in.get() & 0xFF;
            byte[][] values = new byte[n][];
            for (int i = 0; i < n; i++) {
                values[i] = bytes(in);
                if (values[i].length == 0) throw bad();
            }
            byte[] key = bytes(in);
            if (in.hasRemaining() || key.length == 0) throw bad();
            return new QueryCursor(index, d == 1, values, key);
        } catch (java.nio.BufferUnderflowException e) {
            throw bad();
        }
    }

    private static byte[] bytes(ByteBuffer in) {
        int n = 0;
        for (int shift = 0; ; shift += 7) {
            if (shift > 28) throw bad();
            int b = in.get() & 0xFF;
            n |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (n < 0 || n > in.remaining()) throw bad();
        byte[] out = new byte[n];
        in.get(out);
        return out;
    }

    private static CairnException bad() {
        return new CairnException(ErrorCode.INVALID_QUERY,
                "The \"after\" cursor is malformed; pass the \"next\" value of the previous page unchanged.");
    }
}
