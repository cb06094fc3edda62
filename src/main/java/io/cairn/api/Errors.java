package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/** The error body of API.md: {@code {"error": {"code", "message", ...details}}}. */
public final class Errors {
    private Errors() {}

    public static JsonObject body(ErrorCode code, String message, Map<String, Object> details) {
        JsonObject error = new JsonObject().put("code", code.code()).put("message", message);
        details.forEach(error::put);
        return new JsonObject().put("error", error);
    }

    public static JsonObject body(CairnException e) {
        return body(e.code(), e.getMessage(), e.details());
    }

    /** The code for an HTTP status that a lower layer (body limit, routing) produced. */
    public static ErrorCode forStatus(int status) {
        return switch (status) {
            case 400 -> ErrorCode.BAD_REQUEST;
            case 404 -> ErrorCode.NOT_FOUND;
            case 405 -> ErrorCode.METHOD_NOT_ALLOWED;
            case 413 -> ErrorCode.PAYLOAD_TOO_LARGE;
            case 415 -> ErrorCode.UNSUPPORTED_MEDIA_TYPE;
            case 503 -> ErrorCode.NOT_READY;
            case 504 -> ErrorCode.TIMEOUT;
            default -> ErrorCode.INTERNAL;
        };
    }
}
