package io.cairn.fault;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks change-stream subscribers against the committed history (API.md, "Change streams"): only
 * committed changes; no gaps; no duplicates; rev order; all changes of one rev together and in op
 * order; filters (collection, key) respected; and a client that resumes with {@code after} = the
 * last rev it had completely misses nothing.
 *
 * <p>Per subscriber, the <em>expected</em> sequence is the committed history restricted to its
 * filter. Each session (one WebSocket connection) must deliver a contiguous slice of it: from the
 * first change with {@code rev > after} (or, for a session started "from now", from the start of
 * some rev), and it may end anywhere (a disconnect can cut a transaction; the client then resumes
 * before that rev). A {@code progress} frame at rev R promises every expected change up to R has
 * been delivered. When a session breaks, the next one's {@code after} must not pass what the
 * previous sessions completely delivered, unless it ended with {@code compacted} (the client re-read).
 *
 * <p>A key filter matches only changes of that key: a collection {@code drop} (no key) is expected
 * only by subscribers without a key filter. Pure functions; thread-safe.
 */
public final class StreamChecker {
    /** One committed change: {@code seq} is its position inside its rev (the op order of a transaction). */
    public record Committed(long rev, int seq, String collection, String key, String op) {
        public Committed {
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(op, "op");
        }

        boolean sameChange(Change c) {
            return rev == c.rev() && collection.equals(c.collection()) && Objects.equals(key, c.key()) && op.equals(c.op());
        }

        @Override
        public String toString() {
            return "rev " + rev + "." + seq + " " + op + " " + collection + (key != null ? "/" + key : "");
        }
    }

    /** A frame a subscriber received. */
    public sealed interface Received {
        long rev();
    }

    /** {@code {"type":"change","rev","op","collection","key",...}}. */
    public record Change(long rev, String collection, String key, String op) implements Received {
        @Override
        public String toString() {
            return "rev " + rev + " " + op + " " + collection + (key != null ? "/" + key : "");
        }
    }

    /** {@code {"type":"progress","rev"}}. */
    public record Progress(long rev) implements Received {
        @Override
        public String toString() {
            return "progress " + rev;
        }
    }

    /** A subscription's filter; null = any. */
    public record Filter(String collection, String key) {
        public static final Filter ALL = new Filter(null, null);

        public Filter {
            if (key != null && collection == null) throw new IllegalArgumentException("a key filter needs a collection");
        }

        public boolean matches(Committed c) {
            if (collection != null && !collection.equals(c.collection())) return false;
            return key == null || key.equals(c.key());
        }

        @Override
        public String toString() {
            return collection == null ? "all" : key == null ? collection : collection + "/" + key;
        }
    }

    /** How a session ended. */
    public enum End { OPEN, DISCONNECTED, COMPACTED, CLOSED }

    /** One connection: resumed with {@code after} (null: from now), what it received in order, how it ended. */
    public record Session(Long after, List<Received> received, End end) {
        public Session {
            received = List.copyOf(received);
            Objects.requireNonNull(end, "end");
        }
    }

    public record Subscriber(String name, Filter filter, List<Session> sessions) {
        public Subscriber {
            sessions = List.copyOf(sessions);
        }
    }

    /** A write the client saw acknowledged: {@code op} is {@code put} or {@code delete}. */
    public record Acknowledged(long rev, String collection, String key, String op) {}

    public record Report(List<String> violations) {
        public Report {
            violations = List.copyOf(violations);
        }

        public boolean ok() {
            return violations.isEmpty();
        }

        public String text() {
            if (violations.isEmpty()) return "change streams: OK\n";
            StringBuilder sb = new StringBuilder("change streams: ").append(violations.size()).append(" violation(s)\n");
            for (String v : violations) sb.append("  ").append(v.replace("\n", "\n  ")).append('\n');
            return sb.toString();
        }
    }

    /** Reported violations per subscriber stop here: the first ones explain the rest. */
    static final int VIOLATIONS_PER_SUBSCRIBER_MAX = 10;
    private static final int CONTEXT_ITEMS = 4;

    private StreamChecker() {}

    /** Revs never go back and each rev's changes are numbered 0, 1, 2... in order. */
    public static List<String> checkCommitted(List<Committed> committed) {
        List<String> violations = new ArrayList<>();
        for (int i = 0; i < committed.size(); i++) {
            Committed c = committed.get(i);
            Committed prev = i > 0 ? committed.get(i - 1) : null;
            int expectedSeq = prev != null && prev.rev() == c.rev() ? prev.seq() + 1 : 0;
            if (prev != null && c.rev() < prev.rev()) violations.add("committed history goes back: " + prev + " then " + c);
            else if (c.seq() != expectedSeq) violations.add("committed history: " + c + " should have seq " + expectedSeq);
        }
        return violations;
    }

    /** No lost acknowledged write: every acknowledged write is in the committed history at its rev. */
    public static List<String> checkAcknowledged(List<Committed> committed, List<Acknowledged> acknowledged) {
        Set<String> present = new HashSet<>();
        for (Committed c : committed) present.add(c.rev() + " " + c.op() + " " + c.collection() + "/" + c.key());
        List<String> violations = new ArrayList<>();
        for (Acknowledged a : acknowledged) {
            if (!present.contains(a.rev() + " " + a.op() + " " + a.collection() + "/" + a.key())) {
                violations.add("acknowledged write lost: " + a.op() + " " + a.collection() + "/" + a.key() + " at rev " + a.rev()
                        + " is not in the committed history");
            }
        }
        return violations;
    }

    public static Report check(List<Committed> committed, List<Subscriber> subscribers) {
        return check(committed, subscribers, 0);
    }

    /**
     * @param completeUpToRev when positive, every subscriber's last session must have delivered
     *                        (or covered by progress) every expected change up to this rev
     */
    public static Report check(List<Committed> committed, List<Subscriber> subscribers, long completeUpToRev) {
        List<String> violations = new ArrayList<>(checkCommitted(committed));
        Set<String> all = new HashSet<>();
        for (Committed c : committed) all.add(identity(c.rev(), c.collection(), c.key(), c.op()));
        for (Subscriber s : subscribers) {
            violations.addAll(new SubscriberCheck(committed, all, s, completeUpToRev).run());
        }
        return new Report(violations);
    }

    private static String identity(long rev, String collection, String key, String op) {
        return rev + "\u0000" + collection + "\u0000" + key + "\u0000" + op;
    }

    private static final class SubscriberCheck {
        private final Subscriber subscriber;
        private final List<Committed> expected = new ArrayList<>();
        private final Map<String, Integer> indexOf = new HashMap<>();
        private final Set<String> committedIds;
        private final long completeUpToRev;
        private final List<String> violations = new ArrayList<>();

        SubscriberCheck(List<Committed> committed, Set<String> committedIds, Subscriber subscriber, long completeUpToRev) {
            this.subscriber = subscriber;
            this.committedIds = committedIds;
            this.completeUpToRev = completeUpToRev;
            for (Committed c : committed) {
                if (subscriber.filter().matches(c)) {
                    indexOf.putIfAbsent(identity(c.rev(), c.collection(), c.key(), c.op()) + "\u0000" + c.seq(), expected.size());
                    expected.add(c);
                }
            }
        }

        List<String> run() {
            long complete = Long.MIN_VALUE; // every expected change with rev <= complete has been delivered
            End previousEnd = null;
            for (int s = 0; s < subscriber.sessions().size(); s++) {
                Session session = subscriber.sessions().get(s);
                if (session.after() != null && previousEnd != null && previousEnd != End.COMPACTED && session.after() > complete) {
                    violate(s, -1, "resumed with after=" + session.after() + " but earlier sessions were complete only up to rev "
                            + (complete == Long.MIN_VALUE ? "(nothing)" : complete) + ": the client skipped "
                            + describe(between(complete, session.after())));
                }
                complete = session(s, session, complete);
                previousEnd = session.end();
                if (violations.size() >= VIOLATIONS_PER_SUBSCRIBER_MAX) break;
            }
            if (completeUpToRev > 0 && complete < completeUpToRev && violations.size() < VIOLATIONS_PER_SUBSCRIBER_MAX) {
                violate(subscriber.sessions().size() - 1, -1, "never received everything up to rev " + completeUpToRev
                        + "; missing " + describe(between(complete, completeUpToRev)));
            }
            return violations;
        }

        /** Checks one session; answers the new completeness point. */
        private long session(int s, Session session, long completeBefore) {
            Long after = session.after();
            int pos = after != null ? firstAfter(after) : -1; // -1: "from now", not anchored yet
            long complete = after != null ? Math.max(completeBefore, after) : completeBefore;
            long lastChangeRev = Long.MIN_VALUE;
            long lastProgressRev = Long.MIN_VALUE;
            BitSet delivered = new BitSet();
            List<Received> got = session.received();
            for (int i = 0; i < got.size() && violations.size() < VIOLATIONS_PER_SUBSCRIBER_MAX; i++) {
                Received r = got.get(i);
                if (r instanceof Progress p) {
                    if (p.rev() < lastProgressRev) violate(s, i, "progress went back from " + lastProgressRev + " to " + p.rev());
                    if (pos < 0) {
                        pos = firstAfter(p.rev());
                    } else if (pos < expected.size() && expected.get(pos).rev() <= p.rev()) {
                        violate(s, i, "progress " + p.rev() + " before delivering " + describe(upTo(pos, p.rev())) + window(got, i, pos));
                        pos = firstAfter(p.rev());
                    }
                    lastProgressRev = Math.max(lastProgressRev, p.rev());
                    complete = Math.max(complete, p.rev());
                    continue;
                }
                Change c = (Change) r;
                if (c.rev() <= lastProgressRev) {
                    violate(s, i, c + " arrives after progress " + lastProgressRev + window(got, i, pos));
                }
                if (!committedIds.contains(identity(c.rev(), c.collection(), c.key(), c.op()))) {
                    violate(s, i, "not a committed change: " + c + window(got, i, pos));
                    continue;
                }
                int at = find(c, Math.max(pos, 0));
                if (at < 0) {
                    int earlier = find(c, 0);
                    if (earlier < 0) {
                        violate(s, i, "outside the filter " + subscriber.filter() + ": " + c + window(got, i, pos));
                    } else if (delivered.get(earlier) || (after != null && c.rev() <= after)) {
                        violate(s, i, "duplicate: " + c + (after != null && c.rev() <= after
                                ? " (at or before after=" + after + ")" : " (already delivered)") + window(got, i, pos));
                    } else {
                        violate(s, i, "out of order: " + c + " after rev " + lastChangeRev + window(got, i, pos));
                    }
                    continue;
                }
                if (pos < 0) {
                    if (at > 0 && expected.get(at - 1).rev() == c.rev()) {
                        violate(s, i, "a from-now stream starts inside rev " + c.rev() + ", after " + expected.get(at - 1) + window(got, i, at));
                    }
                } else if (at > pos) {
                    boolean splitRev = expected.get(pos).rev() == c.rev();
                    violate(s, i, (splitRev ? "rev " + c.rev() + " not delivered whole and in op order: missing " : "gap: missing ")
                            + describe(expected.subList(pos, at)) + " before " + c + window(got, i, pos));
                }
                delivered.set(at);
                lastChangeRev = c.rev();
                pos = at + 1;
                complete = Math.max(complete, completeThrough(pos));
            }
            return complete;
        }

        /** The rev up to which everything expected is delivered when the next expected change is at {@code pos}. */
        private long completeThrough(int pos) {
            if (pos >= expected.size()) return Long.MAX_VALUE; // everything committed that matches is delivered
            return expected.get(pos).rev() - 1;
        }

        private int firstAfter(long rev) {
            int lo = 0;
            int hi = expected.size();
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (expected.get(mid).rev() <= rev) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        /** Index in expected of the first change equal to c at or after {@code from}, or -1. */
        private int find(Change c, int from) {
            for (int i = firstAfter(c.rev() - 1); i < expected.size() && expected.get(i).rev() == c.rev(); i++) {
                if (i >= from && expected.get(i).sameChange(c)) return i;
            }
            return -1;
        }

        private List<Committed> between(long afterRev, long uptoRev) {
            List<Committed> out = new ArrayList<>();
            for (Committed c : expected) {
                if (c.rev() > afterRev && c.rev() <= uptoRev) out.add(c);
            }
            return out;
        }

        private List<Committed> upTo(int pos, long uptoRev) {
            List<Committed> out = new ArrayList<>();
            for (int i = pos; i < expected.size() && expected.get(i).rev() <= uptoRev; i++) out.add(expected.get(i));
            return out;
        }

        private static String describe(List<Committed> changes) {
            if (changes.isEmpty()) return "nothing";
            if (changes.size() <= 3) return changes.toString();
            return changes.size() + " changes " + changes.subList(0, 2) + "..." + changes.get(changes.size() - 1);
        }

        private String window(List<Received> got, int i, int pos) {
            List<Received> before = got.subList(Math.max(0, i - CONTEXT_ITEMS), i);
            List<Committed> next = pos < 0 ? Collections.emptyList() : expected.subList(pos, Math.min(expected.size(), pos + CONTEXT_ITEMS));
            return "\n    received before it: " + before + "\n    expected next: " + next;
        }

        private void violate(int session, int item, String what) {
            violations.add("subscriber " + subscriber.name() + " [" + subscriber.filter() + "] session " + session
                    + (item >= 0 ? " frame " + item : "") + ": " + what);
        }
    }
}
