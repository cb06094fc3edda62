package io.cairn.fault;

import io.cairn.fault.KvInput.TxnOp;
import java.util.ArrayList;
import java.util.List;

/**
 * A hand-written KV history for tests and examples: times in arbitrary units, client ids
 * explicit. Ids are given in order of addition.
 */
public final class KvHistory {
    private final List<Operation<KvInput, KvOutput>> ops = new ArrayList<>();

    public List<Operation<KvInput, KvOutput>> ops() {
        return List.copyOf(ops);
    }

    public KvHistory add(int client, long invoke, long ret, KvInput input, KvOutput output) {
        ops.add(new Operation<>(ops.size(), client, invoke, ret, input, output, Outcome.OK));
        return this;
    }

    /** An operation whose outcome is unknown (timeout, 5xx): it returns at +infinity. */
    public KvHistory unknown(int client, long invoke, KvInput input) {
        ops.add(new Operation<>(ops.size(), client, invoke, invoke, input, KvOutput.UNKNOWN, Outcome.UNKNOWN));
        return this;
    }

    /** An operation that definitely did not happen (dropped by the checker). */
    public KvHistory failed(int client, long invoke, long ret, KvInput input) {
        ops.add(new Operation<>(ops.size(), client, invoke, ret, input, KvOutput.UNKNOWN, Outcome.FAILED));
        return this;
    }

    public KvHistory put(int client, long invoke, long ret, String key, String value, long rev) {
        return add(client, invoke, ret, KvInput.Put.plain(key, value), new KvOutput.Written(rev));
    }

    public KvHistory cas(int client, long invoke, long ret, String key, String value, long ifMatch, long rev) {
        return add(client, invoke, ret, KvInput.Put.ifMatch(key, value, ifMatch), new KvOutput.Written(rev));
    }

    public KvHistory casFailed(int client, long invoke, long ret, String key, String value, long ifMatch) {
        return add(client, invoke, ret, KvInput.Put.ifMatch(key, value, ifMatch), new KvOutput.PreconditionFailed(-1));
    }

    public KvHistory read(int client, long invoke, long ret, String key, String value, long rev, long readRev) {
        return add(client, invoke, ret, new KvInput.Read(key), new KvOutput.Found(value, rev, readRev));
    }

    public KvHistory readMissing(int client, long invoke, long ret, String key, long readRev) {
        return add(client, invoke, ret, new KvInput.Read(key), new KvOutput.NotFound(readRev));
    }

    public KvHistory delete(int client, long invoke, long ret, String key, long rev) {
        return add(client, invoke, ret, new KvInput.Delete(key, null), new KvOutput.Written(rev));
    }

    public KvHistory txn(int client, long invoke, long ret, KvOutput output, TxnOp... ops) {
        return add(client, invoke, ret, new KvInput.Txn(List.of(ops)), output);
    }
}
