package io.cairn.fault;

import java.util.List;

/**
 * A sequential specification for {@link LinearizabilityChecker}.
 *
 * <p>{@link #step} may answer several next states: the model is then nondeterministic (an
 * operation with an unknown outcome may or may not have applied) and the checker explores the
 * set of possible states, as Porcupine does for its nondeterministic models. States must be
 * immutable values with {@code equals}/{@code hashCode} (records), since the checker memoizes
 * (linearized set, state) pairs.
 */
public interface Model<S, I, O> {
    S init();

    /** The states that may follow {@code state} after {@code input} answered {@code output}; empty = impossible. */
    List<S> step(S state, I input, O output);

    /**
     * Splits a history into independent sub-histories (P-compositionality): the whole is
     * linearizable iff every part is. Default: one part.
     */
    default List<List<Operation<I, O>>> partition(List<Operation<I, O>> history) {
        return List.of(history);
    }

    /** An operation that changes no state: with an unknown outcome it tells nothing, so it is dropped. */
    default boolean isReadOnly(I input) {
        return false;
    }

    /** A short name for a part, such as the keys it covers. */
    default String describePartition(List<Operation<I, O>> part) {
        return "all";
    }

    default String describeOperation(I input, O output) {
        return input + " -> " + output;
    }

    default String describeState(S state) {
        return String.valueOf(state);
    }
}
