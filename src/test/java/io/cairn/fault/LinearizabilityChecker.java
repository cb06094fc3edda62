package io.cairn.fault;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Linearizability checking of a concurrent history against a sequential {@link Model}: the
 * Wing &amp; Gong search with Lowe's memoization, per partition (P-compositionality), in the form
 * Porcupine implements it.
 *
 * <p>The history becomes a doubly linked list of call and return entries in time order (calls
 * before returns at equal times). The search walks the list: at a call it tries to linearize that
 * operation now (the model accepts its output from the current state, and the pair (set of
 * linearized operations, state) was never seen before); if so it lifts the call and its return out
 * of the list and starts again from the head. Reaching a return means that operation should
 * already be linearized: backtrack (undo the last linearization and try the next candidate). An
 * empty list is a full linearization; backtracking from depth 0 proves there is none.
 *
 * <p>Outcomes: {@link Outcome#FAILED} operations are dropped; {@link Outcome#UNKNOWN} ones return
 * at +infinity (so they may take effect at any point after their call, or, placed after
 * everything else, never), and unknown read-only ones are dropped since they tell nothing.
 *
 * <p>Work is bounded: after {@code maxStates} memoized states (or the deadline) a partition is
 * reported {@link Verdict#UNKNOWN} rather than searched forever. Not thread-safe; one call at a time.
 */
public final class LinearizabilityChecker {
    public enum Verdict { OK, ILLEGAL, UNKNOWN }

    /**
     * Bounds on the search, per call of {@link #check}. Memory: each memoized state keeps a bitset
     * of the partition's ops, about {@code 100 + ops/8} bytes; 500,000 states of a 3,000-op
     * partition is about 250 MB.
     */
    public record Limits(long maxStatesPerPartition, Duration timeout, int reportTailOps) {
        public static Limits defaults() {
            return new Limits(500_000, Duration.ofSeconds(60), 12);
        }
    }

    /** The verdict for one partition, with what a person needs to see when it is not OK. */
    public record PartitionResult(String name, int operations, Verdict verdict, long states, String report) {}

    public record Result(Verdict verdict, List<PartitionResult> partitions) {
        public boolean ok() {
            return verdict == Verdict.OK;
        }

        /** Readable text: one line per partition, then the report of each one that is not OK. */
        public String report() {
            StringBuilder sb = new StringBuilder();
            sb.append("linearizability: ").append(verdict).append(" (").append(partitions.size()).append(" partitions)\n");
            for (PartitionResult p : partitions) {
                sb.append("  ").append(p.name()).append(": ").append(p.verdict()).append(", ")
                        .append(p.operations()).append(" ops, ").append(p.states()).append(" states\n");
            }
            for (PartitionResult p : partitions) {
                if (p.verdict() != Verdict.OK) sb.append(p.report());
            }
            return sb.toString();
        }
    }

    private LinearizabilityChecker() {}

    public static <S, I, O> Result check(Model<S, I, O> model, List<Operation<I, O>> history) {
        return check(model, history, Limits.defaults());
    }

    public static <S, I, O> Result check(Model<S, I, O> model, List<Operation<I, O>> history, Limits limits) {
        long deadline = System.nanoTime() + limits.timeout().toNanos();
        List<Operation<I, O>> kept = new ArrayList<>();
        for (Operation<I, O> op : history) {
            if (op.outcome() == Outcome.FAILED) continue;
            if (op.outcome() == Outcome.UNKNOWN && model.isReadOnly(op.input())) continue;
            kept.add(op);
        }
        long origin = history.stream().mapToLong(Operation::invokeNanos).min().orElse(0);
        List<PartitionResult> results = new ArrayList<>();
        for (List<Operation<I, O>> part : model.partition(kept)) {
            results.add(new Search<>(model, part, limits, deadline, origin).run());
        }
        Verdict verdict = Verdict.OK;
        for (PartitionResult r : results) {
            if (r.verdict() == Verdict.ILLEGAL) verdict = Verdict.ILLEGAL;
            else if (r.verdict() == Verdict.UNKNOWN && verdict == Verdict.OK) verdict = Verdict.UNKNOWN;
        }
        return new Result(verdict, List.copyOf(results));
    }

    /** One entry of the linked list: a call (match = its return) or a return (match = null). */
    private static final class Node {
        final int index; // index of the operation in the partition, -1 for the head
        final boolean call;
        Node match;
        Node prev;
        Node next;

        Node(int index, boolean call) {
            this.index = index;
            this.call = call;
        }
    }

    /** The memo key: which operations are linearized, and the set of states that leaves. */
    private record CacheKey(long[] linearized, Set<?> states) {
        @Override
        public boolean equals(Object o) {
            return o instanceof CacheKey k && Arrays.equals(linearized, k.linearized) && states.equals(k.states);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(linearized) + states.hashCode();
        }
    }

    private record Frame<S>(Node call, Set<S> states) {}

    private static final class Search<S, I, O> {
        private final Model<S, I, O> model;
        private final List<Operation<I, O>> ops;
        private final Limits limits;
        private final long deadline;
        private final long origin;
        private final String name;

        // the furthest the search got when it had to backtrack: most ops of known outcome
        // linearized, then fewest of unknown outcome (they explain little and confuse a reader)
        private int bestKnown = -1;
        private int bestUnknown;
        private int knownDepth;
        private int[] bestPrefix = new int[0];
        private Set<S> bestStates;
        private int bestStuck = -1;
        private int[] bestPending = new int[0];

        Search(Model<S, I, O> model, List<Operation<I, O>> ops, Limits limits, long deadline, long origin) {
            this.model = model;
            this.ops = ops;
            this.limits = limits;
            this.deadline = deadline;
            this.origin = origin;
            this.name = model.describePartition(ops);
        }

        PartitionResult run() {
            int n = ops.size();
            Node head = buildList();
            long[] linearized = new long[(n + 63) / 64];
            Set<CacheKey> cache = new HashSet<>();
            List<Frame<S>> calls = new ArrayList<>();
            Set<S> states = Set.of(model.init());
            Node entry = head.next;
            long steps = 0;
            while (head.next != null) {
                if ((++steps & 1023) == 0 && System.nanoTime() - deadline > 0) {
                    return unknown(cache.size(), "the time limit ran out");
                }
                if (entry.call) {
                    Set<S> next = step(states, ops.get(entry.index));
                    if (!next.isEmpty()) {
                        long[] after = linearized.clone();
                        after[entry.index >>> 6] |= 1L << entry.index;
                        if (cache.add(new CacheKey(after, next))) {
                            if (cache.size() > limits.maxStatesPerPartition()) {
                                return unknown(cache.size(), "more than " + limits.maxStatesPerPartition() + " states");
                            }
                            calls.add(new Frame<>(entry, states));
                            if (ops.get(entry.index).outcome() == Outcome.OK) knownDepth++;
                            states = next;
                            linearized = after;
                            lift(entry);
                            entry = head.next;
                            continue;
                        }
                    }
                    entry = entry.next;
                } else {
                    int unknownDepth = calls.size() - knownDepth;
                    if (knownDepth > bestKnown || (knownDepth == bestKnown && unknownDepth < bestUnknown)) {
                        remember(head, entry, calls, states);
                    }
                    if (calls.isEmpty()) {
                        return new PartitionResult(name, n, Verdict.ILLEGAL, cache.size(), illegalReport(cache.size()));
                    }
                    Frame<S> top = calls.remove(calls.size() - 1);
                    entry = top.call();
                    if (ops.get(entry.index).outcome() == Outcome.OK) knownDepth--;
                    states = top.states();
                    linearized = linearized.clone();
                    linearized[entry.index >>> 6] &= ~(1L << entry.index);
                    unlift(entry);
                    entry = entry.next;
                }
            }
            return new PartitionResult(name, n, Verdict.OK, cache.size(), "");
        }

        private Set<S> step(Set<S> states, Operation<I, O> op) {
            if (states.size() == 1) {
                List<S> next = model.step(states.iterator().next(), op.input(), op.output());
                return next.size() == 1 ? Set.of(next.get(0)) : Set.copyOf(next);
            }
            Set<S> union = new LinkedHashSet<>();
            for (S s : states) union.addAll(model.step(s, op.input(), op.output()));
            return Set.copyOf(union);
        }

        private Node buildList() {
            List<Node> entries = new ArrayList<>(2 * ops.size());
            for (int i = 0; i < ops.size(); i++) {
                Node call = new Node(i, true);
                Node ret = new Node(i, false);
                call.match = ret;
                entries.add(call);
                entries.add(ret);
            }
            entries.sort(Comparator.comparingLong(this::time).thenComparing(e -> !e.call));
            Node head = new Node(-1, false);
            Node last = head;
            for (Node e : entries) {
                last.next = e;
                e.prev = last;
                last = e;
            }
            return head;
        }

        private long time(Node e) {
            Operation<I, O> op = ops.get(e.index);
            return e.call ? op.invokeNanos() : op.effectiveReturnNanos();
        }

        private static void lift(Node call) {
            call.prev.next = call.next;
            call.next.prev = call.prev; // a call always has its return after it
            Node ret = call.match;
            ret.prev.next = ret.next;
            if (ret.next != null) ret.next.prev = ret.prev;
        }

        private static void unlift(Node call) {
            Node ret = call.match;
            ret.prev.next = ret;
            if (ret.next != null) ret.next.prev = ret;
            call.prev.next = call;
            call.next.prev = call;
        }

        private void remember(Node head, Node stuck, List<Frame<S>> calls, Set<S> states) {
            bestKnown = knownDepth;
            bestUnknown = calls.size() - knownDepth;
            bestPrefix = calls.stream().mapToInt(f -> f.call().index).toArray();
            bestStates = states;
            bestStuck = stuck.index;
            List<Integer> pending = new ArrayList<>();
            for (Node e = head.next; e != null && e != stuck; e = e.next) {
                if (e.call) pending.add(e.index);
            }
            bestPending = pending.stream().mapToInt(Integer::intValue).toArray();
        }

        private PartitionResult unknown(long states, String why) {
            String report = "partition " + name + ": UNKNOWN, the search stopped: " + why
                    + " (furthest point: " + bestPrefix.length + " of " + ops.size() + " ops linearized)\n";
            return new PartitionResult(name, ops.size(), Verdict.UNKNOWN, states, report);
        }

        private String illegalReport(long states) {
            StringBuilder sb = new StringBuilder();
            sb.append("partition ").append(name).append(": NOT linearizable (").append(ops.size()).append(" ops, ")
                    .append(states).append(" states searched)\n");
            sb.append("  longest linearizable prefix: ").append(bestPrefix.length).append(" ops");
            int from = Math.max(0, bestPrefix.length - limits.reportTailOps());
            if (from > 0) sb.append(", the last ").append(bestPrefix.length - from);
            sb.append(", in linearization order:\n");
            for (int i = from; i < bestPrefix.length; i++) {
                sb.append("    ").append(describe(ops.get(bestPrefix[i]))).append('\n');
            }
            sb.append("  state(s) after the prefix: ").append(describeStates(bestStates)).append('\n');
            Operation<I, O> stuck = ops.get(bestStuck);
            sb.append("  stuck: ").append(describe(stuck)).append('\n');
            sb.append("    must take effect before it returns at ").append(millis(stuck.effectiveReturnNanos()))
                    .append(", but no operation pending then can be linearized next from that state:\n");
            for (int index : bestPending) {
                Operation<I, O> op = ops.get(index);
                boolean accepted = !step(bestStates, op).isEmpty();
                sb.append("    ").append(describe(op)).append(accepted ? "   [possible next, leads to a dead end]" : "   [impossible from this state]")
                        .append('\n');
            }
            return sb.toString();
        }

        private String describeStates(Set<S> states) {
            if (states == null) return "?";
            List<String> parts = new ArrayList<>();
            for (S s : states) parts.add(model.describeState(s));
            return parts.size() == 1 ? parts.get(0) : "one of " + parts;
        }

        private String describe(Operation<I, O> op) {
            String end = op.outcome() == Outcome.UNKNOWN ? "?" : millis(op.returnNanos());
            return "#" + op.id() + " client " + op.clientId() + " [" + millis(op.invokeNanos()) + " .. " + end + "] "
                    + model.describeOperation(op.input(), op.output())
                    + (op.outcome() == Outcome.UNKNOWN ? " (outcome unknown)" : "");
        }

        private String millis(long nanos) {
            if (nanos == Long.MAX_VALUE) return "+inf";
            return String.format("%.3fms", (nanos - origin) / 1e6);
        }
    }
}
