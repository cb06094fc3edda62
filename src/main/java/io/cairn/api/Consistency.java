package io.cairn.api;

import io.cairn.store.CairnException;
import io.cairn.store.ErrorCode;

/** The read consistencies of API.md, "Read consistency". */
public enum Consistency {
    LINEARIZABLE, LEASE, LOCAL;

    /** Parses the {@code consistency} query parameter; null means the default, linearizable. */
    public static Consistency parse(String text) {
        if (text == null) return LINEARIZABLE;
        return switch (text) {
            case "linearizable" -> LINEARIZABLE;
            case "lease" -> LEASE;
            case "local" -> LOCAL;
            default -> throw new CairnException(ErrorCode.BAD_REQUEST,
                    "consistency must be linearizable, lease or local, not '" + text + "'");
        };
    }
}
