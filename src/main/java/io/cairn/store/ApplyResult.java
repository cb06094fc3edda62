package io.cairn.store;

import java.util.List;

/**
 * What applying one log entry did.
 *
 * <ul>
 *   <li>{@link Outcome#APPLIED}: the command took effect with revision {@code index}. {@code ops}
 *       holds one {@link OpResult} per op of a Txn (empty for catalog commands and Noop);
 *       {@code created} tells a created collection or index (201) from an unchanged one (200), and
 *       is false for Txn and drops.
 *   <li>{@link Outcome#REJECTED}: a deterministic refusal ({@code precondition_failed},
 *       {@code unique_violation}, {@code conflict}, {@code not_found}, or bad input that reached
 *       the log); nothing changed but the applied index. {@code error} holds code, message and
 *       details (such as {@code failedOp}). Every replica rejects identically.
 *   <li>{@link Outcome#SKIPPED}: {@code index} was already applied; nothing happened and
 *       nothing is known about the original result.
 * </ul>
 */
public record ApplyResult(long index, Outcome outcome, boolean created, List<OpResult> ops, CairnException error) {
    public enum Outcome { APPLIED, REJECTED, SKIPPED }

    public ApplyResult {
        ops = List.copyOf(ops);
    }

    static ApplyResult applied(long index, boolean created, List<OpResult> ops) {
        return new ApplyResult(index, Outcome.APPLIED, created, ops, null);
    }

    static ApplyResult rejected(long index, CairnException error) {
        return new ApplyResult(index, Outcome.REJECTED, false, List.of(), error);
    }

    static ApplyResult skipped(long index) {
        return new ApplyResult(index, Outcome.SKIPPED, false, List.of(), null);
    }

    /** True when the command took effect. */
    public boolean ok() {
        return outcome == Outcome.APPLIED;
    }

    /** The revision of the change: the log index. */
    public long rev() {
        return index;
    }

    /**
     * Result of one op of an applied Txn: the document {@code key}; {@code rev} is the Txn's revision
     * for put/insert/patch/delete and the document's current revision (0 = absent) for check;
     * {@code created} is true when put or insert created the document (201 rather than 200).
     */
    public record OpResult(String key, long rev, boolean created) {}
}
