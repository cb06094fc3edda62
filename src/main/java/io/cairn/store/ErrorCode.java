package io.cairn.store;

/**
 * Every error a client can see, with its wire code and HTTP status (API.md, "Errors"). This enum is
 * the one place where an error becomes a status; the HTTP, WebSocket and event-bus front ends all
 * read it from here.
 */
public enum ErrorCode {
    INVALID_JSON("invalid_json", 400),
    INVALID_NAME("invalid_name", 400),
    INVALID_KEY("invalid_key", 400),
    INVALID_QUERY("invalid_query", 400),
    BAD_REQUEST("bad_request", 400),
    UNAUTHORIZED("unauthorized", 401),
    FORBIDDEN("forbidden", 403),
    NOT_FOUND("not_found", 404),
    METHOD_NOT_ALLOWED("method_not_allowed", 405),
    UNIQUE_VIOLATION("unique_violation", 409),
    CONFLICT("conflict", 409),
    COMPACTED("compacted", 410),
    PRECONDITION_FAILED("precondition_failed", 412),
    PAYLOAD_TOO_LARGE("payload_too_large", 413),
    UNSUPPORTED_MEDIA_TYPE("unsupported_media_type", 415),
    NO_LEADER("no_leader", 503),
    NOT_READY("not_ready", 503),
    TIMEOUT("timeout", 504),
    /** A fault of the server itself (disk full, bug). Never the answer to bad input. */
    INTERNAL("internal", 500);

    private final String code;
    private final int httpStatus;

    ErrorCode(String code, int httpStatus) {
        this.code = code;
        this.httpStatus = httpStatus;
    }

    /** The wire code, e.g. {@code unique_violation}. */
    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public static ErrorCode fromCode(String code) {
        for (ErrorCode c : values()) {
            if (c.code.equals(code)) return c;
        }
        return INTERNAL;
    }
}
