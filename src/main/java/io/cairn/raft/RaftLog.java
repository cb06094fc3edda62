package io.cairn.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory view of the log owned by {@link Replication}: the snapshot the log starts after,
 * and the entries after it ({@code entries.get(i).index() == snapshot.index() + 1 + i}), plus the
 * membership entries among them so the latest configuration is known at once (dissertation §4.1: a
 * server uses the latest configuration in its log, committed or not). Not thread-safe.
 */
final class RaftLog {
    private SnapshotMeta snapshot;
    private final ArrayList<Entry> entries = new ArrayList<>();
    /** Membership entries of {@link #entries}, in index order. */
    private final ArrayList<ConfigEntry> configs = new ArrayList<>();

    record ConfigEntry(long index, Membership membership) {}

    RaftLog(SnapshotMeta snapshot, List<Entry> restored) {
        this.snapshot = snapshot;
        append(restored);
    }

    SnapshotMeta snapshot() {
        return snapshot;
    }

    long firstIndex() {
        return snapshot.index() + 1;
    }

    long lastIndex() {
        return snapshot.index() + entries.size();
    }

    long lastTerm() {
        return entries.isEmpty() ? snapshot.term() : entries.get(entries.size() - 1).term();
    }

    /** The term of the entry at {@code index}, or -1 if it is compacted away or beyond the end. */
    long term(long index) {
        if (index == snapshot.index()) return snapshot.term();
        if (index < snapshot.index() || index > lastIndex()) return -1;
        return entries.get(offset(index)).term();
    }

    Entry entry(long index) {
        if (index < firstIndex() || index > lastIndex()) {
            throw new IllegalStateException("entry " + index + " outside [" + firstIndex() + ", " + lastIndex() + "]");
        }
        return entries.get(offset(index));
    }

    private int offset(long index) {
        return (int) (index - snapshot.index() - 1);
    }

    boolean matchTerm(long index, long term) {
        long t = term(index);
        return t >= 0 && t == term;
    }

    /**
     * Raft paper §5.4.1: a candidate's log is at least as up-to-date as this one if its last term
     * is higher, or equal with a last index at least as high.
     */
    boolean isUpToDate(long candidateLastIndex, long candidateLastTerm) {
        long lastTerm = lastTerm();
        return candidateLastTerm > lastTerm || (candidateLastTerm == lastTerm && candidateLastIndex >= lastIndex());
    }

    /** Whether a log ending at ({@code lastIndex}, {@code lastTerm}) is strictly more up-to-date. */
    boolean isMoreUpToDate(long candidateLastIndex, long candidateLastTerm) {
        long lastTerm = lastTerm();
        return candidateLastTerm > lastTerm || (candidateLastTerm == lastTerm && candidateLastIndex > lastIndex());
    }

    /**
     * The largest index at or below {@code index} whose term is at most {@code term} (the fast
     * back-off of Raft paper §5.3). Stops at the snapshot: at most {@code snapshot.index()} below it.
     */
    long findConflictByTerm(long index, long term) {
        long i = Math.min(index, lastIndex());
        while (i > snapshot.index()) {
            if (term(i) <= term) return i;
            i--;
        }
        return Math.min(i, snapshot.index());
    }

    /**
     * Entries in [from, toInclusive], at most {@code entriesMax} and {@code bytesMax} (but at least
     * one if the range is not empty).
     */
    List<Entry> slice(long from, long toInclusive, int entriesMax, long bytesMax) {
        if (from < firstIndex()) throw new IllegalStateException("slice from " + from + " below " + firstIndex());
        long to = Math.min(toInclusive, lastIndex());
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i <= to && out.size() < entriesMax; i++) {
            Entry e = entries.get(offset(i));
            bytes += e.sizeBytes();
            if (bytes > bytesMax && !out.isEmpty()) break;
            out.add(e);
        }
        return out;
    }

    /** Appends entries that continue the log exactly. */
    void append(List<Entry> more) {
        for (Entry e : more) {
            if (e.index() != lastIndex() + 1) {
                throw new IllegalStateException("append " + e.index() + " after last " + lastIndex());
            }
            if (e.term() < lastTerm()) {
                throw new IllegalStateException("append term " + e.term() + " below last term " + lastTerm());
            }
            entries.add(e);
            if (e.type() == EntryType.MEMBERSHIP) {
                configs.add(new ConfigEntry(e.index(), MessageCodec.decodeMembership(e.data())));
            }
        }
    }

    /** Deletes every entry at or after {@code index}. */
    void truncateFrom(long index) {
        if (index <= snapshot.index()) throw new IllegalStateException("truncate " + index + " into snapshot");
        if (index > lastIndex()) return;
        entries.subList(offset(index), entries.size()).clear();
        while (!configs.isEmpty() && configs.get(configs.size() - 1).index() >= index) {
            configs.remove(configs.size() - 1);
        }
    }

    /** Drops the entries the snapshot {@code meta} covers. */
    void compact(SnapshotMeta meta) {
        if (meta.index() <= snapshot.index()) throw new IllegalStateException("compact backwards");
        if (meta.index() > lastIndex()) throw new IllegalStateException("compact beyond last index");
        entries.subList(0, offset(meta.index()) + 1).clear();
        configs.removeIf(c -> c.index() <= meta.index());
        snapshot = meta;
    }

    /** Replaces the whole log with the snapshot {@code meta} (InstallSnapshot, Raft paper §7). */
    void restore(SnapshotMeta meta) {
        entries.clear();
        configs.clear();
        snapshot = meta;
    }

    Membership membership() {
        return configs.isEmpty() ? snapshot.membership() : configs.get(configs.size() - 1).membership();
    }

    private Membership votersOf;
    private List<String> voters = List.of();

    /** Voter ids of the latest membership (cached: it is asked for on every quorum count). */
    List<String> voterIds() {
        Membership m = membership();
        if (m != votersOf) {
            voters = m.voterIds();
            votersOf = m;
        }
        return voters;
    }

    boolean isVoter(String id) {
        return voterIds().contains(id);
    }

    /** Index of the entry that holds the latest membership (the snapshot index if none). */
    long membershipIndex() {
        return configs.isEmpty() ? snapshot.index() : configs.get(configs.size() - 1).index();
    }

    /** The membership in force at {@code index} (for snapshots taken there). */
    Membership membershipAt(long index) {
        Membership m = snapshot.membership();
        for (ConfigEntry c : configs) {
            if (c.index() > index) break;
            m = c.membership();
        }
        return m;
    }

    /** Entries from {@code from} to the end (a copy). */
    List<Entry> entriesFrom(long from) {
        if (from > lastIndex()) return List.of();
        return new ArrayList<>(entries.subList(offset(from), entries.size()));
    }
}
