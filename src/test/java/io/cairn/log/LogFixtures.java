package io.cairn.log;

import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Entries whose bytes are a function of (index, term), so any stored entry can be checked. */
final class LogFixtures {
    private LogFixtures() {}

    static Entry entry(long index, long term, int bytes) {
        byte[] data = new byte[bytes];
        Arrays.fill(data, fill(index, term));
        return new Entry(index, term, EntryType.NORMAL, data);
    }

    static Entry entry(long index, long term) {
        return entry(index, term, 16);
    }

    static List<Entry> range(long from, long toInclusive, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= toInclusive; i++) out.add(entry(i, term));
        return out;
    }

    static byte fill(long index, long term) {
        return (byte) (index * 31 + term * 7);
    }

    /** True if the entry's bytes are what {@link #entry} writes for its index and term. */
    static boolean intact(Entry e) {
        for (byte b : e.data()) if (b != fill(e.index(), e.term())) return false;
        return true;
    }

    /** A comparable view: Entry is a record over byte[], whose equals is identity. */
    static List<String> describe(List<Entry> entries) {
        return entries.stream()
                .map(e -> e.index() + "@" + e.term() + ":" + e.type() + ":" + Arrays.toString(e.data()))
                .toList();
    }
}
