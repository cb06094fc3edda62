package io.cairn.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An error with a client-visible {@link ErrorCode}, a message a person can act on, and optional
 * extra fields that go inside the {@code error} object (such as {@code failedOp} or {@code oldestRev}).
 * Values of {@code details} are JSON scalars (String, Number, Boolean) or null.
 */
public class CairnException extends RuntimeException {
    private final ErrorCode code;
    private final Map<String, Object> details;

    public CairnException(ErrorCode code, String message) {
        this(code, message, Map.of());
    }

    public CairnException(ErrorCode code, String message, Map<String, Object> details) {
        super(message, null, false, false);
        this.code = Objects.requireNonNull(code, "code");
        this.details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    public ErrorCode code() {
        return code;
    }

    public Map<String, Object> details() {
        return details;
    }
}
