package io.cairn.fault;

import io.cairn.fault.KvInput.Delete;
import io.cairn.fault.KvInput.Put;
import io.cairn.fault.KvInput.Txn;
import io.cairn.fault.KvInput.TxnOp;
import io.cairn.fault.KvInput.TxnPut;
import io.cairn.fault.KvOutput.Written;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records a KV history as clients run it: {@link #invoke} when a request leaves, {@link #complete}
 * when its answer (or its failure) comes back. Thread-safe: clients on any event loop.
 *
 * <p>An operation still in flight when the history is taken counts as {@link Outcome#UNKNOWN}:
 * it may yet apply.
 */
public final class HistoryRecorder {
    /** A request in flight. */
    public record Pending(int id, int clientId, long invokeNanos, KvInput input) {}

    private final AtomicInteger nextId = new AtomicInteger();
    private final Map<Integer, Pending> inFlight = new ConcurrentHashMap<>();
    private final Map<Integer, Operation<KvInput, KvOutput>> done = new ConcurrentHashMap<>();

    public Pending invoke(int clientId, KvInput input) {
        Pending p = new Pending(nextId.getAndIncrement(), clientId, System.nanoTime(), input);
        inFlight.put(p.id(), p);
        return p;
    }

    /** Records the answer. For {@link Outcome#UNKNOWN} the output is replaced by {@link KvOutput#UNKNOWN}. */
    public Operation<KvInput, KvOutput> complete(Pending p, KvOutput output, Outcome outcome) {
        long now = System.nanoTime();
        if (inFlight.remove(p.id()) == null) throw new IllegalStateException("op " + p.id() + " completed twice");
        KvOutput out = outcome == Outcome.UNKNOWN ? KvOutput.UNKNOWN : output;
        Operation<KvInput, KvOutput> op = new Operation<>(p.id(), p.clientId(), p.invokeNanos(), now, p.input(), out, outcome);
        done.put(p.id(), op);
        return op;
    }

    /** The history so far, in invocation order; ops in flight appear with an unknown outcome. */
    public List<Operation<KvInput, KvOutput>> history() {
        List<Operation<KvInput, KvOutput>> all = new ArrayList<>(done.values());
        for (Pending p : inFlight.values()) {
            all.add(new Operation<>(p.id(), p.clientId(), p.invokeNanos(), p.invokeNanos(), p.input(), KvOutput.UNKNOWN, Outcome.UNKNOWN));
        }
        all.sort(Comparator.comparingLong(Operation<KvInput, KvOutput>::invokeNanos).thenComparingInt(Operation::id));
        return all;
    }

    public int inFlight() {
        return inFlight.size();
    }

    /** Counts by outcome, in flight included as unknown. */
    public Map<Outcome, Integer> counts() {
        Map<Outcome, Integer> counts = new EnumMap<>(Outcome.class);
        for (Outcome o : Outcome.values()) counts.put(o, 0);
        for (Operation<KvInput, KvOutput> op : history()) counts.merge(op.outcome(), 1, Integer::sum);
        return counts;
    }

    /** Every write the clients saw acknowledged, as the change-stream records it (for "no lost acknowledged write"). */
    public List<StreamChecker.Acknowledged> acknowledged() {
        List<StreamChecker.Acknowledged> out = new ArrayList<>();
        for (Operation<KvInput, KvOutput> op : history()) {
            if (op.outcome() != Outcome.OK || !(op.output() instanceof Written w)) continue;
            KvInput in = op.input();
            if (in instanceof Put p) out.add(ack(w.rev(), p.key(), "put"));
            else if (in instanceof Delete d) out.add(ack(w.rev(), d.key(), "delete"));
            else if (in instanceof Txn t) {
                for (TxnOp o : t.ops()) {
                    if (o instanceof TxnPut) out.add(ack(w.rev(), o.key(), "put"));
                    else if (o instanceof KvInput.TxnDelete) out.add(ack(w.rev(), o.key(), "delete")); // a txn deletes only what exists
                }
            }
        }
        return out;
    }

    private static StreamChecker.Acknowledged ack(long rev, String key, String op) {
        int slash = key.indexOf('/');
        return new StreamChecker.Acknowledged(rev, key.substring(0, slash), key.substring(slash + 1), op);
    }

    /** One line per operation, for a failure report or a file. */
    public String dump() {
        StringBuilder sb = new StringBuilder();
        KvModel model = new KvModel();
        long origin = history().stream().mapToLong(Operation::invokeNanos).min().orElse(0);
        for (Operation<KvInput, KvOutput> op : history()) {
            sb.append(String.format("#%d client %d [%.3fms .. %s] %s%n", op.id(), op.clientId(), (op.invokeNanos() - origin) / 1e6,
                    op.outcome() == Outcome.UNKNOWN ? "?" : String.format("%.3fms", (op.returnNanos() - origin) / 1e6),
                    model.describeOperation(op.input(), op.output()) + (op.outcome() == Outcome.OK ? "" : " " + op.outcome())));
        }
        return sb.toString();
    }
}
