package io.cairn.fault;

import java.util.Objects;

/**
 * One operation of a recorded history.
 *
 * @param id           unique within the history; used in reports
 * @param clientId     the client (process, connection) that issued it
 * @param invokeNanos  when the request was sent ({@link System#nanoTime()} scale)
 * @param returnNanos  when the answer arrived; ignored for {@link Outcome#UNKNOWN}
 * @param input        what was asked
 * @param output       what was answered (a model-specific "unknown" value when the outcome is unknown)
 * @param outcome      ok, definitely failed, or unknown
 */
public record Operation<I, O>(
        int id, int clientId, long invokeNanos, long returnNanos, I input, O output, Outcome outcome) {
    public Operation {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(outcome, "outcome");
        if (outcome != Outcome.UNKNOWN && returnNanos < invokeNanos) {
            throw new IllegalArgumentException("op " + id + " returns before it is invoked");
        }
    }

    /** The return time the checker uses: +infinity for an unknown outcome. */
    public long effectiveReturnNanos() {
        return outcome == Outcome.UNKNOWN ? Long.MAX_VALUE : returnNanos;
    }
}
