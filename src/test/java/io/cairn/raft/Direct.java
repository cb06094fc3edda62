package io.cairn.raft;

import java.util.ArrayList;
import java.util.List;

/** Helpers to drive one {@link Replication} by hand, message by message. */
final class Direct {
    private Direct() {}

    static final Membership THREE = RaftHarness.voters("n1", "n2", "n3");

    static List<Entry> entries(long... terms) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) out.add(new Entry(i + 1, terms[i], EntryType.NORMAL, new byte[] {(byte) i}));
        return out;
    }

    static Replication node(String id, long term, List<Entry> log) {
        return new Replication(RaftHarness.config(id),
                new DurableState(new HardState(term, null, 0), new SnapshotMeta(0, 0, THREE), log, 0));
    }

    /** Persists and advances every pending Ready; returns them. */
    static List<Ready> drain(Replication r) {
        List<Ready> out = new ArrayList<>();
        while (r.hasReady()) {
            Ready rd = r.ready();
            r.advance(rd);
            out.add(rd);
        }
        return out;
    }

    static List<Message> messages(List<Ready> readies) {
        return readies.stream().flatMap(r -> r.messages().stream()).toList();
    }

    static <T extends Message> List<T> messages(List<Ready> readies, Class<T> type) {
        return messages(readies).stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Ticks past the startup lease (a restarted node votes for nobody during one election timeout). */
    static void pastLease(Replication r) {
        for (int i = 0; i < 10; i++) r.tick();
    }

    /** Makes {@code r} leader of its term + 1, as its Election would after winning a vote. */
    static List<Ready> elect(Replication r) {
        pastLease(r);
        r.receive(new ToReplication.StartCampaign(r.term(), false));
        List<Ready> out = new ArrayList<>(drain(r));
        r.receive(new ToReplication.WonTerm(r.term()));
        out.addAll(drain(r));
        return out;
    }
}
