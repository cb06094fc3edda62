package io.cairn.store;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Order-preserving byte encoding of one indexed JSON scalar, so that SQLite's BLOB comparison
 * (memcmp, then length) sorts index entries in API order:
 * {@code null < false < true < numbers < strings}.
 *
 * <ul>
 *   <li>null {@code 05}, false {@code 06}, true {@code 07};
 *   <li>negative numbers {@code 08}, zero {@code 09}, positive numbers {@code 0A}: the value as
 *       {@code 0.d1d2..dn x 10^E} (no trailing zeros, so {@code 1}, {@code 1.0} and {@code 10e-1}
 *       are one value), then E as 8 bytes big-endian with the sign bit flipped, then the digits as
 *       ASCII; for negatives E and the digits are bit-inverted and followed by {@code FF}, so a
 *       shorter mantissa sorts after a longer one with the same start. Exact for every integer and
 *       decimal JSON can spell (no rounding through double);
 *   <li>strings {@code 0B} followed by the UTF-8 bytes (so UTF-8 byte order).
 * </ul>
 * Each indexed field is its own column, so no terminator is needed after a string. Objects and
 * arrays are not indexable: {@link #encode} answers null for them. Pure and thread-safe.
 */
public final class ValueKey {
    static final byte NULL = 0x05;
    static final byte FALSE = 0x06;
    static final byte TRUE = 0x07;
    static final byte NEGATIVE = 0x08;
    static final byte ZERO = 0x09;
    static final byte POSITIVE = 0x0A;
    static final byte STRING = 0x0B;

    private ValueKey() {}

    /** The key bytes of a scalar, or null when {@code v} is an object, array or {@link Json#MISSING}. */
    public static byte[] encode(Object v) {
        if (v == null) return new byte[] {NULL};
        if (v instanceof Boolean b) return new byte[] {b ? TRUE : FALSE};
        if (v instanceof String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            byte[] out = new byte[utf8.length + 1];
            out[0] = STRING;
            System.arraycopy(utf8, 0, out, 1, utf8.length);
            return out;
        }
        if (v instanceof Long l) return encodeLong(l);
        if (v instanceof Integer || v instanceof BigInteger || v instanceof BigDecimal || v instanceof Double) {
            return encodeNumber(toDecimal((Number) v));
        }
        if (v instanceof Map || v instanceof List || v == Json.MISSING || v == Json.NOT_SCALAR) return null;
        throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
    }

    /** Whether {@code v} is a JSON scalar (null, boolean, number, string). */
    public static boolean isScalar(Object v) {
        return v == null || v instanceof Boolean || v instanceof String || v instanceof Number;
    }

    static BigDecimal toDecimal(Number n) {
        if (n instanceof Long || n instanceof Integer) return BigDecimal.valueOf(n.longValue());
        if (n instanceof BigInteger b) return new BigDecimal(b);
        if (n instanceof BigDecimal d) return d;
        if (n instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) throw new IllegalArgumentException("JSON has no NaN or infinity");
            return BigDecimal.valueOf(d);
        }
        throw new IllegalArgumentException("not a JSON number: " + n.getClass().getName());
    }

    /** Same bytes as {@link #encodeNumber} gives for the value, without BigDecimal. */
    private static byte[] encodeLong(long v) {
        if (v == 0) return new byte[] {ZERO};
        if (v == Long.MIN_VALUE) return encodeNumber(BigDecimal.valueOf(v));
        boolean neg = v < 0;
        String all = Long.toString(Math.abs(v));
        int n = all.length();
        while (n > 1 && all.charAt(n - 1) == '0') n--;
        long e = (long) all.length() ^ Long.MIN_VALUE;
        byte[] out = new byte[1 + 8 + n + (neg ? 1 : 0)];
        out[0] = neg ? NEGATIVE : POSITIVE;
        for (int i = 0; i < 8; i++) {
            byte b = (byte) (e >>> (56 - 8 * i));
            out[1 + i] = neg ? (byte) ~b : b;
        }
        for (int i = 0; i < n; i++) {
            byte b = (byte) all.charAt(i);
            out[9 + i] = neg ? (byte) ~b : b;
        }
        if (neg) out[9 + n] = (byte) 0xFF;
        return out;
    }

    static byte[] encodeNumber(BigDecimal d) {
        int sign = d.signum();
        if (sign == 0) return new byte[] {ZERO};
        BigDecimal s = d.stripTrailingZeros();
        String digits = s.unscaledValue().abs().toString();
        long exponent = (long) digits.length() - (long) s.scale();
        long e = exponent ^ Long.MIN_VALUE;
        int n = digits.length();
        byte[] out = new byte[1 + 8 + n + (sign < 0 ? 1 : 0)];
        out[0] = sign < 0 ? NEGATIVE : POSITIVE;
        for (int i = 0; i < 8; i++) {
            byte b = (byte) (e >>> (56 - 8 * i));
            out[1 + i] = sign < 0 ? (byte) ~b : b;
        }
        for (int i = 0; i < n; i++) {
            byte b = (byte) digits.charAt(i);
            out[9 + i] = sign < 0 ? (byte) ~b : b;
        }
        if (sign < 0) out[9 + n] = (byte) 0xFF;
        return out;
    }

    /** Decodes key bytes back to a value (numbers come back as BigDecimal, normalized). For dumps and tests. */
    public static Object decode(byte[] k) {
        if (k.length == 0) throw new IllegalArgumentException("empty value key");
        switch (k[0]) {
            case NULL: return null;
            case FALSE: return Boolean.FALSE;
            case TRUE: return Boolean.TRUE;
            case ZERO: return BigDecimal.ZERO;
            case STRING: return new String(k, 1, k.length - 1, StandardCharsets.UTF_8);
            case POSITIVE:
            case NEGATIVE: {
                boolean neg = k[0] == NEGATIVE;
                long e = 0;
                for (int i = 0; i < 8; i++) {
                    int b = (neg ? ~k[1 + i] : k[1 + i]) & 0xFF;
                    e = (e << 8) | b;
                }
                long exponent = e ^ Long.MIN_VALUE;
                int end = neg ? k.length - 1 : k.length;
                StringBuilder sb = new StringBuilder();
                for (int i = 9; i < end; i++) sb.append((char) ((neg ? ~k[i] : k[i]) & 0xFF));
                BigDecimal unscaled = new BigDecimal(new BigInteger(sb.toString()));
                BigDecimal v = unscaled.scaleByPowerOfTen((int) (exponent - sb.length()));
                return neg ? v.negate() : v;
            }
            default:
                throw new IllegalArgumentException("bad value key tag " + k[0]);
        }
    }
}
