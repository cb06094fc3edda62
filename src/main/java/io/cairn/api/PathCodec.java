package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict percent-decoding of one path segment into UTF-8 text (API.md, "Words": keys). */
public final class PathCodec {
    private PathCodec() {}

    /**
     * Decodes {@code %XX} escapes; every other character stands for itself ({@code +} included).
     * Throws {@link CairnException} with {@code errorCode} when an escape is malformed or the bytes
     * are not valid UTF-8.
     */
    public static String decode(String raw, ErrorCode errorCode) {
        if (raw.indexOf('%') < 0) return raw;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c != '%') {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                continue;
            }
            if (i + 2 >= raw.length()) throw bad(raw, errorCode);
            int hi = Character.digit(raw.charAt(i + 1), 16);
            int lo = Character.digit(raw.charAt(i + 2), 16);
            if (hi < 0 || lo < 0) throw bad(raw, errorCode);
            bytes.write(hi * 16 + lo);
            i += 2;
        }
        return strictUtf8(bytes.toByteArray(), raw, errorCode);
    }

    private static String strictUtf8(byte[] bytes, String raw, ErrorCode errorCode) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw bad(raw, errorCode);
        }
    }

    private static CairnException bad(String raw, ErrorCode errorCode) {
        String shown = raw.length() > 80 ? raw.substring(0, 80) + "..." : raw;
        return new CairnException(errorCode, "path segment '" + shown + "' is not valid percent-encoded UTF-8");
    }
}
