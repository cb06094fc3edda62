package io.cairn.store;

/**
 * Limits and tuning of a {@link DocumentStore}. Every limit a client can push against is here.
 *
 * <p><b>Determinism:</b> the limits checked while applying ({@code docBytesMax},
 * {@code nestingDepthMax}, {@code indexFieldsMax}, {@code indexesPerCollectionMax},
 * {@code collectionsMax}, {@code txnOpsMax}, {@code txnBytesMax}) and the history retention
 * ({@code historyRetain}, {@code historyRetainMillis}) must be equal on every replica, or replicas
 * may reject different commands. The rest ({@code readConnections} and below) is local tuning.
 *
 * @param docBytesMax          UTF-8 bytes of one stored document or patch (default 1 MiB)
 * @param nestingDepthMax      nesting of objects/arrays in a document (default 64, at most 512)
 * @param indexFieldsMax       fields of one index (default 8)
 * @param indexesPerCollectionMax indexes of one collection (default 16)
 * @param collectionsMax       collections in the store (default 10,000)
 * @param txnOpsMax            ops in one transaction (default 1,000; at most {@link #TXN_OPS_CEILING})
 * @param txnBytesMax          sum of document and patch bytes of one transaction (default 8 MiB)
 * @param historyRetain        changes the history keeps (default 1,000,000; at least 1)
 * @param historyRetainMillis  age of the oldest change kept, by command time (default 7 days; 0 = no age limit)
 * @param readConnections      pooled read connections (default 4)
 * @param readWaitMillis       how long a read waits for a free read connection before {@code timeout} (default 10 s)
 * @param pageLimitMax         largest {@code limit} of list, query and changes (default 10,000)
 * @param pageBytesMax         a page of documents or changes stops after about this many bytes (default 8 MiB)
 * @param changesScanMax       history rows one changes() call examines at most (default 100,000)
 * @param synchronousOff       {@code PRAGMA synchronous=OFF} (true, default) or NORMAL; the Raft log is the durable truth
 * @param cacheKiB             SQLite page cache per connection in KiB (default 64 MiB for the writer, a quarter for readers)
 */
public record StoreOptions(
        int docBytesMax,
        int nestingDepthMax,
        int indexFieldsMax,
        int indexesPerCollectionMax,
        int collectionsMax,
        int txnOpsMax,
        int txnBytesMax,
        long historyRetain,
        long historyRetainMillis,
        int readConnections,
        long readWaitMillis,
        int pageLimitMax,
        long pageBytesMax,
        int changesScanMax,
        boolean synchronousOff,
        int cacheKiB) {

    /** Hard ceiling on ops per transaction: the change history numbers ops within a revision in 16 bits. */
    public static final int TXN_OPS_CEILING = 10_000;
    /** Default page size of list and query. */
    public static final int PAGE_LIMIT_DEFAULT = 100;

    public StoreOptions {
        require(docBytesMax >= 64 && docBytesMax <= 64 << 20, "docBytesMax in 64..64MiB");
        require(nestingDepthMax >= 2 && nestingDepthMax <= Json.DEPTH_CEILING, "nestingDepthMax in 2..512");
        require(indexFieldsMax >= 1 && indexFieldsMax <= 32, "indexFieldsMax in 1..32");
        require(indexesPerCollectionMax >= 0 && indexesPerCollectionMax <= 256, "indexesPerCollectionMax in 0..256");
        require(collectionsMax >= 1, "collectionsMax >= 1");
        require(txnOpsMax >= 1 && txnOpsMax <= TXN_OPS_CEILING, "txnOpsMax in 1..10000");
        require(txnBytesMax >= docBytesMax, "txnBytesMax >= docBytesMax");
        require(historyRetain >= 1, "historyRetain >= 1");
        require(historyRetainMillis >= 0, "historyRetainMillis >= 0");
        require(readConnections >= 1 && readConnections <= 64, "readConnections in 1..64");
        require(readWaitMillis >= 0, "readWaitMillis >= 0");
        require(pageLimitMax >= 1, "pageLimitMax >= 1");
        require(pageBytesMax >= 1, "pageBytesMax >= 1");
        require(changesScanMax >= 1, "changesScanMax >= 1");
        require(cacheKiB >= 256, "cacheKiB >= 256");
    }

    private static void require(boolean ok, String what) {
        if (!ok) throw new IllegalArgumentException("StoreOptions: " + what);
    }

    public static StoreOptions defaults() {
        return new StoreOptions(1 << 20, 64, 8, 16, 10_000, 1_000, 8 << 20,
                1_000_000, 7L * 24 * 3600 * 1000, 4, 10_000, 10_000, 8L << 20, 100_000, true, 64 * 1024);
    }

    public StoreOptions withDocBytesMax(int v) {
        return new StoreOptions(v, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, Math.max(txnBytesMax, v), historyRetain, historyRetainMillis, readConnections,
                readWaitMillis, pageLimitMax, pageBytesMax, changesScanMax, synchronousOff, cacheKiB);
    }

    public StoreOptions withTxnOpsMax(int v) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                v, txnBytesMax, historyRetain, historyRetainMillis, readConnections,
                readWaitMillis, pageLimitMax, pageBytesMax, changesScanMax, synchronousOff, cacheKiB);
    }

    public StoreOptions withHistory(long retain, long retainMillis) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, txnBytesMax, retain, retainMillis, readConnections,
                readWaitMillis, pageLimitMax, pageBytesMax, changesScanMax, synchronousOff, cacheKiB);
    }

    public StoreOptions withReadConnections(int v) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, txnBytesMax, historyRetain, historyRetainMillis, v,
                readWaitMillis, pageLimitMax, pageBytesMax, changesScanMax, synchronousOff, cacheKiB);
    }

    public StoreOptions withPageBytesMax(long v) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, txnBytesMax, historyRetain, historyRetainMillis, readConnections,
                readWaitMillis, pageLimitMax, v, changesScanMax, synchronousOff, cacheKiB);
    }

    public StoreOptions withChangesScanMax(int v) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, txnBytesMax, historyRetain, historyRetainMillis, readConnections,
                readWaitMillis, pageLimitMax, pageBytesMax, v, synchronousOff, cacheKiB);
    }

    public StoreOptions withSynchronousOff(boolean v) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, txnBytesMax, historyRetain, historyRetainMillis, readConnections,
                readWaitMillis, pageLimitMax, pageBytesMax, changesScanMax, v, cacheKiB);
    }

    public StoreOptions withLimits(int indexFieldsMax, int indexesPerCollectionMax, int collectionsMax) {
        return new StoreOptions(docBytesMax, nestingDepthMax, indexFieldsMax, indexesPerCollectionMax, collectionsMax,
                txnOpsMax, txnBytesMax, historyRetain, historyRetainMillis, readConnections,
                readWaitMillis, pageLimitMax, pageBytesMax, changesScanMax, synchronousOff, cacheKiB);
    }
}
