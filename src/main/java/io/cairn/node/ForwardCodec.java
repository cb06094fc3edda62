package io.cairn.node;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to a forwarded request, as JSON on the peer link: either
 * {@code {"status","rev","etag","body"}} (body is the response's JSON text) or
 * {@code {"error": {"code","message",...details}}}.
 */
public final class ForwardCodec {
    private ForwardCodec() {}

    /** A successful answer; {@code body} and {@code etag} may be null, {@code rev} -1 for none. */
    public record Answer(int status, String body, long rev, String etag) {}

    public static byte[] answer(Answer a) {
        JsonObject j = new JsonObject().put("status", a.status()).put("rev", a.rev()).put("etag", a.etag()).put("body", a.body());
        return j.encode().getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] error(Throwable cause) {
        CairnException e = cause instanceof CairnException ce ? ce
                : new CairnException(ErrorCode.INTERNAL, "the leader failed: " + cause.getClass().getSimpleName());
        JsonObject error = new JsonObject().put("code", e.code().code()).put("message", e.getMessage());
        e.details().forEach(error::put);
        return new JsonObject().put("error", error).encode().getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes an answer; an error answer is thrown as the {@link CairnException} it describes. */
    public static Answer decode(byte[] bytes) {
        JsonObject j;
        try {
            j = new JsonObject(new String(bytes, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new CairnException(ErrorCode.INTERNAL, "the leader sent an unreadable answer");
        }
        JsonObject error = j.getJsonObject("error");
        if (error != null) {
            Map<String, Object> details = new LinkedHashMap<>(error.getMap());
            details.remove("code");
            details.remove("message");
            throw new CairnException(ErrorCode.fromCode(error.getString("code")), error.getString("message"), details);
        }
        return new Answer(j.getInteger("status"), j.getString("body"), j.getLong("rev", -1L), j.getString("etag"));
    }
}
