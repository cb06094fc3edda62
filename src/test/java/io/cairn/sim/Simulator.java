package io.cairn.sim;

import io.cairn.raft.Config;
import io.cairn.raft.DurableState;
import io.cairn.raft.Election;
import io.cairn.raft.Entry;
import io.cairn.raft.EntryType;
import io.cairn.raft.HardState;
import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import io.cairn.raft.MembershipChange;
import io.cairn.raft.Message;
import io.cairn.raft.MessageCodec;
import io.cairn.raft.ProposeResult;
import io.cairn.raft.ReadResult;
import io.cairn.raft.Ready;
import io.cairn.raft.Replication;
import io.cairn.raft.Role;
import io.cairn.raft.Route;
import io.cairn.raft.SnapshotMeta;
import io.cairn.raft.ToElection;
import io.cairn.raft.ToReplication;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * One seeded run of a simulated cluster (the method of TigerBeetle's VOPR and FoundationDB's
 * simulation): pure Raft nodes, a scheduler with virtual time, a network that drops, delays,
 * duplicates, reorders and partitions, crashes that lose whatever was not yet persisted, and a
 * workload of proposals, reads, membership changes, compactions and leadership transfers. Every
 * event is followed by the safety checks of {@link #check(SimNode)}; after the chaos phase the
 * faults heal and the cluster must elect a leader and commit within a bounded time. Everything
 * random comes from the seed, so a seed replays exactly.
 */
public final class Simulator {
    /** Virtual time units per tick. */
    static final int TICK = 10;
    static final int IDS_MAX = 9;

    /** What to simulate. {@code trace} prints every event (for replaying one seed). */
    public record Options(int nodes, int chaosTicks, int healTicksMax, boolean trace) {
        /**
         * Mostly 3-node clusters (6 in 10 seeds), which reach multi-term histories fastest, then 5
         * (3 in 10) and 7 (1 in 10); fault phases of 200 to 1000 ticks.
         */
        public static Options forSeed(long seed) {
            int nodes = switch ((int) Math.floorMod(seed, 10L)) {
                case 0, 1, 2, 3, 4, 5 -> 3;
                case 6, 7, 8 -> 5;
                default -> 7;
            };
            int chaosTicks = 200 + (int) Math.floorMod(seed * 0x9E3779B97F4A7C15L >>> 17, 801L);
            return new Options(nodes, chaosTicks, 200, false);
        }
    }

    /** A broken invariant, with the seed that replays it. */
    public static final class Failure extends RuntimeException {
        public final long seed;

        Failure(long seed, String message, Throwable cause) {
            super("seed " + seed + ": " + message, cause);
            this.seed = seed;
        }
    }

    /** Figures of one run. */
    public record Result(long seed, long events, long messages, long commits, long leaders, long snapshotsInstalled,
                         long readsConfirmed, long leaseReads, long crashes, long membershipChanges,
                         long healTicks) {}

    private enum Kind { TICK_REPLICATION, TICK_ELECTION, DELIVER, TO_ELECTION, TO_REPLICATION, PERSISTED, RESTART, CRASH }

    private record Event(long time, long seq, Kind kind, SimNode node, int incarnation, Object payload)
            implements Comparable<Event> {
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** One node: the two pure halves, its disk and its state machine. */
    private final class SimNode {
        final String id;
        final int index;
        final Config config;
        Replication rep;
        Election elec;
        boolean up;
        /** Stopped for good by the operator (a removed server, see stopRemovedServers). */
        boolean decommissioned;
        int incarnation;
        Ready persisting;
        long toElectionAt;
        long toReplicationAt;
        // Disk: exactly what persisted Readies (and the application's snapshots) wrote.
        HardState hardState = HardState.EMPTY;
        SnapshotMeta snapshot;
        byte[] snapshotData = new byte[0];
        final ArrayList<Entry> log = new ArrayList<>();
        // Volatile: pending snapshot file, state machine, reads.
        SnapshotMeta pendingMeta;
        ByteArrayOutputStream pendingFile = new ByteArrayOutputStream();
        long applied;
        long hash;
        long checkedCommit;
        long probeApplied;
        final Map<Long, Long> pendingReads = new HashMap<>();

        SimNode(String id, int index, SnapshotMeta base) {
            this.id = id;
            this.index = index;
            this.config = config(id);
            this.snapshot = base;
        }
    }

    private final long seed;
    private final Options options;
    private final SplittableRandom rnd;
    private final Config baseConfig;
    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private long now;
    private long seq;
    private final Map<String, SimNode> nodes = new LinkedHashMap<>();
    private int idsUsed;

    // Network faults.
    private final boolean[][] blocked = new boolean[IDS_MAX][IDS_MAX];
    private double dropP;
    private double duplicateP;
    private double slowP;
    private boolean healed;

    // Workload and fault rates of this seed (per tick unless said otherwise).
    private double proposeP;
    private double readP;
    private double membershipP;
    private double transferP;
    private double compactP;
    private double crashP;
    private double leaderCrashP;
    /** Chance that a newly elected leader crashes within its first 3 ticks (multi-term divergence). */
    private double newLeaderCrashP;
    /** Chance that a leader crashes right after an event that advanced its commit index. */
    private double commitCrashP;
    /** Chance that a newly elected leader is cut off at once (its first entries stay its own). */
    private double newLeaderIsolateP;
    /** Chance that a node crashes right after its granted vote went out. */
    private double voteCrashP;
    /** Restarts come 1 to this many time units after a crash. */
    private int restartDelayMax;
    private double partitionP;

    // Checker state.
    private final Map<Long, String> leaderOfTerm = new HashMap<>();
    private final Map<Long, Long> logMatching = new HashMap<>();
    private final ArrayList<Long> committedTerm = new ArrayList<>(List.of(0L));
    private final ArrayList<Long> historyTerm = new ArrayList<>(List.of(0L));
    private final ArrayList<Long> historyValue = new ArrayList<>(List.of(0L));
    private final ArrayList<Long> historyHash = new ArrayList<>(List.of(0L));
    private long globalCommit;
    private long nextCommand = 1;
    private long nextRead = 1;

    // Figures.
    private long events;
    private long messages;
    private long leaders;
    private long snapshotsInstalled;
    private long readsConfirmed;
    private long leaseReads;
    private long crashes;
    private long membershipChanges;

    public Simulator(long seed, Options options) {
        this.seed = seed;
        this.options = options;
        this.rnd = new SplittableRandom(seed);
        this.baseConfig = randomConfig(rnd);
    }

    /** The settings of this seed (the same on every node; leases assume equal election timeouts). */
    private Config config(String id) {
        return baseConfig.withId(id);
    }

    private static Config randomConfig(SplittableRandom rnd) {
        int[] appendEntries = {1, 2, 4, 8};
        boolean preVote = rnd.nextInt(4) != 0;
        boolean checkQuorum = rnd.nextInt(4) != 0;
        return new Config("n0", 10, 1 + rnd.nextInt(3), appendEntries[rnd.nextInt(4)], 128 + rnd.nextInt(512),
                1 + rnd.nextInt(4), 16 + rnd.nextInt(112), preVote, checkQuorum, 2, 1 + rnd.nextInt(16), 4096,
                64 << 10, 4096, 64, rnd.nextInt(10), 4096);
    }

    /** Runs the seed; throws {@link Failure} on the first broken invariant. */
    public Result run() {
        try {
            return runUnchecked();
        } catch (Failure f) {
            throw f;
        } catch (RuntimeException | AssertionError e) {
            throw new Failure(seed, "at time " + now + ": " + e, e);
        }
    }

    private Result runUnchecked() {
        boot();
        long chaosEnd = (long) options.chaosTicks() * TICK;
        while (now < chaosEnd) {
            step(now + TICK);
            chaos();
        }
        heal();
        long healStart = now;
        long deadline = now + (long) options.healTicksMax() * TICK;
        while (!converged()) {
            if (now >= deadline) fail("no progress " + options.healTicksMax() + " ticks after faults healed: " + describe());
            step(now + TICK);
            probe();
        }
        return new Result(seed, events, messages, globalCommit, leaders, snapshotsInstalled, readsConfirmed,
                leaseReads, crashes, membershipChanges, (now - healStart) / TICK);
    }

    // ---------------------------------------------------------------- setup

    /**
     * Swarm testing: each seed draws its own fault and workload rates, so some seeds crash often,
     * some partition often, some lose many messages, some do none of it.
     */
    private void boot() {
        dropP = rnd.nextDouble() * 0.15;
        duplicateP = rnd.nextDouble() * 0.05;
        slowP = rnd.nextDouble() * 0.10;
        proposeP = 0.1 + rnd.nextDouble() * 0.6;
        readP = rnd.nextDouble() * 0.2;
        membershipP = rnd.nextDouble() * 0.04;
        transferP = rnd.nextDouble() * 0.02;
        compactP = rnd.nextDouble() * 0.06;
        crashP = rnd.nextDouble() * 0.025;
        leaderCrashP = rnd.nextDouble() * 0.02;
        newLeaderCrashP = rnd.nextDouble() * 0.3;
        commitCrashP = rnd.nextDouble() * 0.1;
        newLeaderIsolateP = rnd.nextDouble() * 0.3;
        voteCrashP = rnd.nextDouble() * 0.3;
        restartDelayMax = new int[] {30, 100, 400}[rnd.nextInt(3)];
        partitionP = rnd.nextDouble() * 0.03;
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < options.nodes(); i++) {
            members.add(new Member("n" + (i + 1), "n" + (i + 1) + ":7000", "n" + (i + 1) + ":8080", true));
        }
        Membership initial = new Membership(members);
        for (int i = 0; i < options.nodes(); i++) createNode(new SnapshotMeta(0, 0, initial));
    }

    private SimNode createNode(SnapshotMeta base) {
        SimNode n = new SimNode("n" + (idsUsed + 1), idsUsed, base);
        idsUsed++;
        nodes.put(n.id, n);
        start(n);
        return n;
    }

    private void start(SimNode n) {
        n.up = true;
        n.incarnation++;
        n.persisting = null;
        n.pendingMeta = null;
        n.pendingFile = new ByteArrayOutputStream();
        n.pendingReads.clear();
        restoreStateMachine(n, n.snapshot, n.snapshotData);
        n.rep = new Replication(n.config, new DurableState(n.hardState, n.snapshot, List.copyOf(n.log), n.snapshot.index()));
        n.elec = new Election(n.config, rnd.split());
        n.checkedCommit = n.rep.commitIndex();
        schedule(rnd.nextInt(TICK) + 1, Kind.TICK_REPLICATION, n, null);
        schedule(rnd.nextInt(TICK) + 1, Kind.TICK_ELECTION, n, null);
        afterReplication(n);
    }

    private void crash(SimNode n) {
        trace("crash " + n.id);
        crashes++;
        n.up = false;
        n.incarnation++;
        n.persisting = null;
        schedule(1 + rnd.nextInt(restartDelayMax), Kind.RESTART, n, null);
    }

    // ---------------------------------------------------------------- scheduler

    private void schedule(long delay, Kind kind, SimNode node, Object payload) {
        queue.add(new Event(now + delay, seq++, kind, node, node == null ? 0 : node.incarnation, payload));
    }

    /** Runs every event up to time {@code until}. */
    private void step(long until) {
        while (!queue.isEmpty() && queue.peek().time() <= until) {
            Event e = queue.poll();
            now = e.time();
            events++;
            dispatch(e);
        }
        now = until;
    }

    private void dispatch(Event e) {
        SimNode n = e.node();
        if (e.kind() == Kind.RESTART) {
            if (!n.up && !n.decommissioned) start(n);
            return;
        }
        if (e.kind() == Kind.DELIVER) {
            deliver((byte[]) e.payload());
            return;
        }
        if (!n.up || e.incarnation() != n.incarnation) return;
        switch (e.kind()) {
            case TICK_REPLICATION -> {
                n.rep.tick();
                schedule(TICK, Kind.TICK_REPLICATION, n, null);
                afterReplication(n);
            }
            case TICK_ELECTION -> {
                n.elec.tick();
                schedule(TICK, Kind.TICK_ELECTION, n, null);
                afterElection(n);
            }
            case TO_ELECTION -> {
                if (options.trace()) trace(n.id + " election receives " + e.payload());
                n.elec.receive((ToElection) e.payload());
                afterElection(n);
            }
            case TO_REPLICATION -> {
                if (options.trace()) trace(n.id + " replication receives " + e.payload() + " at term " + n.rep.term());
                n.rep.receive((ToReplication) e.payload());
                afterReplication(n);
            }
            case PERSISTED -> persisted(n, (Ready) e.payload());
            case CRASH -> {
                if (!healed) crash(n);
                return;
            }
            case DELIVER, RESTART -> throw new IllegalStateException();
        }
        check(n);
    }

    private void afterReplication(SimNode n) {
        if (n.persisting != null || !n.rep.hasReady()) return;
        Ready r = n.rep.ready();
        n.persisting = r;
        schedule(r.nothingToPersist() ? 0 : 1 + rnd.nextInt(10), Kind.PERSISTED, n, r);
    }

    private void afterElection(SimNode n) {
        if (!n.elec.hasOutput()) return;
        Election.Output o = n.elec.drain();
        o.messages().forEach(this::send);
        for (ToReplication r : o.toReplication()) {
            n.toReplicationAt = Math.max(n.toReplicationAt, now + rnd.nextInt(4));
            schedule(n.toReplicationAt - now, Kind.TO_REPLICATION, n, r);
        }
    }

    // ---------------------------------------------------------------- persistence and the state machine

    private void persisted(SimNode n, Ready r) {
        if (n.persisting != r) throw new IllegalStateException("persisted a Ready that is not pending");
        writeDisk(n, r);
        n.persisting = null;
        n.rep.advance(r);
        r.messages().forEach(this::send);
        if (!healed && grantsVote(r) && rnd.nextDouble() < voteCrashP) {
            crash(n);
            return;
        }
        for (ToElection t : r.toElection()) {
            n.toElectionAt = Math.max(n.toElectionAt, now + rnd.nextInt(4));
            schedule(n.toElectionAt - now, Kind.TO_ELECTION, n, t);
        }
        for (Entry e : r.committedEntries()) apply(n, e);
        for (ReadResult rr : r.readResults()) readResult(n, rr);
        for (Ready.SnapshotRead sr : r.snapshotReads()) serveSnapshotRead(n, sr);
        afterReplication(n);
    }

    private static boolean grantsVote(Ready r) {
        for (Message m : r.messages()) {
            if (m instanceof Message.VoteResponse v && v.granted()) return true;
        }
        return false;
    }

    private void writeDisk(SimNode n, Ready r) {
        for (Ready.SnapshotChunk c : r.snapshotChunks()) {
            if (c.offset() == 0) {
                n.pendingMeta = c.meta();
                n.pendingFile = new ByteArrayOutputStream();
            }
            if (!c.meta().equals(n.pendingMeta) || c.offset() != n.pendingFile.size()) {
                fail(n.id + " got chunk at " + c.offset() + " of " + c.meta().index() + " with "
                        + n.pendingFile.size() + " bytes pending");
            }
            n.pendingFile.writeBytes(c.data());
        }
        if (r.snapshotToInstall() != null) {
            SnapshotMeta meta = r.snapshotToInstall();
            if (!meta.equals(n.pendingMeta)) fail(n.id + " installs a snapshot it did not receive");
            n.snapshot = meta;
            n.snapshotData = n.pendingFile.toByteArray();
            n.log.clear();
            restoreStateMachine(n, meta, n.snapshotData);
            snapshotsInstalled++;
            trace(n.id + " installed snapshot " + meta.index());
        }
        if (!r.entries().isEmpty()) appendDisk(n, r.entries());
        if (r.hardState() != null) {
            if (r.hardState().term() < n.hardState.term()) fail(n.id + " persisted a lower term");
            n.hardState = r.hardState();
        }
    }

    /** Writes entries and checks Log Matching (Raft paper §5.3) inductively, entry by entry. */
    private void appendDisk(SimNode n, List<Entry> entries) {
        long first = entries.get(0).index();
        while (!n.log.isEmpty() && n.log.get(n.log.size() - 1).index() >= first) n.log.remove(n.log.size() - 1);
        long expected = n.snapshot.index() + n.log.size() + 1;
        if (first != expected) fail(n.id + " appends " + first + " but disk continues at " + expected);
        for (Entry e : entries) {
            long prevTerm = n.log.isEmpty() ? n.snapshot.term() : n.log.get(n.log.size() - 1).term();
            long key = e.index() * 1_000_003L + e.term();
            long fingerprint = (value(e) * 31 + e.type().ordinal()) * 1_000_003L + prevTerm;
            Long seen = logMatching.putIfAbsent(key, fingerprint);
            if (seen != null && seen != fingerprint) {
                fail("log matching: entry " + e.index() + " of term " + e.term() + " differs on " + n.id);
            }
            n.log.add(e);
        }
    }

    private static long value(Entry e) {
        return switch (e.type()) {
            case NORMAL -> ByteBuffer.wrap(e.data()).getLong();
            case NOOP -> 0;
            case MEMBERSHIP -> Arrays.hashCode(e.data());
        };
    }

    /** State machine safety (Raft paper §5.4.3): every node applies the same entry at each index. */
    private void apply(SimNode n, Entry e) {
        if (e.index() != n.applied + 1) fail(n.id + " applies " + e.index() + " after " + n.applied);
        long v = value(e);
        n.hash = mix(n.hash, e.index(), e.term(), v);
        n.applied = e.index();
        if (v < 0 && e.type() == EntryType.NORMAL) n.probeApplied = Math.min(n.probeApplied, v);
        if (e.index() < historyTerm.size()) {
            if (historyTerm.get((int) e.index()) != e.term() || historyValue.get((int) e.index()) != v) {
                fail("state machine safety: " + n.id + " applies term " + e.term() + " at " + e.index()
                        + " where term " + historyTerm.get((int) e.index()) + " was applied");
            }
        } else if (e.index() == historyTerm.size()) {
            historyTerm.add(e.term());
            historyValue.add(v);
            historyHash.add(n.hash);
        } else {
            fail(n.id + " applies " + e.index() + " beyond the history " + (historyTerm.size() - 1));
        }
    }

    private static long mix(long hash, long index, long term, long value) {
        long h = hash * 0x9E3779B97F4A7C15L + index;
        h = h * 0xBF58476D1CE4E5B9L + term;
        return (h ^ (h >>> 29)) * 0x94D049BB133111EBL + value;
    }

    private void restoreStateMachine(SimNode n, SnapshotMeta meta, byte[] data) {
        if (meta.index() == 0) {
            n.applied = 0;
            n.hash = 0;
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(data);
        long index = b.getLong();
        long hash = b.getLong();
        if (index != meta.index()) fail(n.id + " snapshot data of " + index + " under meta " + meta.index());
        if (index >= historyHash.size() || historyHash.get((int) index) != hash) {
            fail("state machine safety: " + n.id + " restores a snapshot at " + index + " that differs from the history");
        }
        n.applied = index;
        n.hash = hash;
    }

    /** The application snapshots its state machine and compacts the log (Raft paper §7). */
    private void compact(SimNode n) {
        if (n.applied <= n.snapshot.index()) return;
        SnapshotMeta meta = n.rep.snapshotMetaAt(n.applied).orElse(null);
        if (meta == null) return;
        int padding = rnd.nextInt(300);
        ByteBuffer b = ByteBuffer.allocate(16 + padding);
        b.putLong(n.applied).putLong(n.hash);
        n.snapshot = meta;
        n.snapshotData = b.array();
        n.log.removeIf(e -> e.index() <= meta.index());
        n.rep.compact(meta);
        trace(n.id + " compacted to " + meta.index());
        afterReplication(n);
    }

    private void serveSnapshotRead(SimNode n, Ready.SnapshotRead sr) {
        if (!sr.meta().equals(n.snapshot)) {
            n.rep.snapshotUnavailable(sr.peer(), sr.meta());
            return;
        }
        int from = (int) Math.min(sr.offset(), n.snapshotData.length);
        int to = (int) Math.min(n.snapshotData.length, from + (long) sr.bytesMax());
        n.rep.snapshotChunkRead(sr.peer(), sr.meta(), sr.offset(), Arrays.copyOfRange(n.snapshotData, from, to),
                to == n.snapshotData.length);
    }

    // ---------------------------------------------------------------- reads

    private void startRead(SimNode n) {
        if (n == null) return;
        long id = nextRead++;
        n.pendingReads.put(id, globalCommit);
        n.rep.readIndex(id);
        afterReplication(n);
    }

    /** Linearizable ReadIndex (dissertation §6.4): the read index covers every commit before the read. */
    private void readResult(SimNode n, ReadResult r) {
        Long startCommit = n.pendingReads.remove(r.requestId());
        if (startCommit == null) fail(n.id + " got a result for unknown read " + r.requestId());
        if (r instanceof ReadResult.Confirmed c) {
            readsConfirmed++;
            if (c.index() < startCommit) {
                fail("linearizability: read " + r.requestId() + " on " + n.id + " got index " + c.index()
                        + " but " + startCommit + " was committed when it started");
            }
        }
    }

    private void leaseRead(SimNode n) {
        OptionalLong index = n.rep.leaseReadIndex();
        if (index.isEmpty()) return;
        leaseReads++;
        if (index.getAsLong() < globalCommit) {
            fail("lease read on " + n.id + " returned " + index.getAsLong() + " but " + globalCommit + " is committed");
        }
    }

    // ---------------------------------------------------------------- network

    private void send(Message m) {
        messages++;
        byte[] bytes = MessageCodec.encode(m);
        if (!healed && rnd.nextDouble() < dropP) return;
        schedule(delay(), Kind.DELIVER, null, bytes);
        if (!healed && rnd.nextDouble() < duplicateP) schedule(delay(), Kind.DELIVER, null, bytes);
    }

    private long delay() {
        if (healed) return 1 + rnd.nextInt(5);
        return rnd.nextDouble() < slowP ? 20 + rnd.nextInt(200) : 1 + rnd.nextInt(20);
    }

    private void deliver(byte[] bytes) {
        Message m = MessageCodec.decode(bytes);
        SimNode from = nodes.get(m.from());
        SimNode to = nodes.get(m.to());
        if (to == null || !to.up || blocked[from.index][to.index]) return;
        if (options.trace()) trace("deliver " + m);
        if (Route.of(m) == Route.ELECTION) {
            to.elec.step(m);
            afterElection(to);
        } else {
            to.rep.step(m);
            afterReplication(to);
        }
        check(to);
    }

    // ---------------------------------------------------------------- workload and faults

    private void chaos() {
        SimNode leader = leader();
        if (rnd.nextDouble() < proposeP) propose(randomUp());
        if (rnd.nextDouble() < readP) startRead(randomUp());
        if (leader != null && rnd.nextDouble() < readP) leaseRead(leader);
        if (leader != null && rnd.nextDouble() < membershipP) changeMembership(leader);
        if (leader != null && rnd.nextDouble() < transferP) transfer(leader);
        if (rnd.nextDouble() < compactP) {
            SimNode n = randomUp();
            if (n != null) compact(n);
        }
        if (rnd.nextDouble() < crashP) {
            SimNode n = randomUp();
            if (n != null) crash(n);
        }
        if (leader != null && leader.up && rnd.nextDouble() < leaderCrashP) crash(leader);
        if (rnd.nextDouble() < partitionP) repartition();
        for (SimNode n : nodes.values()) if (n.up) check(n);
    }

    private SimNode randomUp() {
        List<SimNode> up = new ArrayList<>(nodes.size());
        for (SimNode n : nodes.values()) if (n.up) up.add(n);
        return up.isEmpty() ? null : up.get(rnd.nextInt(up.size()));
    }

    private SimNode leader() {
        SimNode best = null;
        for (SimNode n : nodes.values()) {
            if (n.up && n.rep.role() == Role.LEADER && (best == null || n.rep.term() > best.rep.term())) best = n;
        }
        return best;
    }

    private void propose(SimNode n) {
        if (n == null) return;
        byte[] data = new byte[8 + rnd.nextInt(120)];
        ByteBuffer.wrap(data).putLong(nextCommand++);
        n.rep.propose(data);
        afterReplication(n);
    }

    private void changeMembership(SimNode leader) {
        Membership m = leader.rep.status().membership();
        MembershipChange change;
        if (rnd.nextBoolean() && idsUsed < IDS_MAX) {
            String id = "n" + (idsUsed + 1);
            change = new MembershipChange.AddLearner(new Member(id, id + ":7000", id + ":8080", false));
        } else {
            List<String> voters = m.voterIds();
            List<Member> members = m.members();
            if (voters.size() < 3 || members.isEmpty()) return;
            change = new MembershipChange.Remove(members.get(rnd.nextInt(members.size())).id());
        }
        ProposeResult r = leader.rep.proposeMembership(change);
        trace(leader.id + " proposes " + change + ": " + r);
        if (r instanceof ProposeResult.Accepted) {
            membershipChanges++;
            if (change instanceof MembershipChange.AddLearner) createNode(SnapshotMeta.EMPTY);
        }
        afterReplication(leader);
    }

    private void transfer(SimNode leader) {
        List<String> voters = leader.rep.status().membership().voterIds();
        if (voters.isEmpty()) return;
        String to = voters.get(rnd.nextInt(voters.size()));
        boolean started = leader.rep.transferLeadership(to);
        trace(leader.id + " transfers to " + to + ": " + started);
        afterReplication(leader);
    }

    private void repartition() {
        for (boolean[] row : blocked) Arrays.fill(row, false);
        int n = idsUsed;
        switch (rnd.nextInt(5)) {
            case 0 -> trace("network healed");
            case 1 -> isolate(rnd.nextInt(n));
            case 2 -> {
                boolean[] side = new boolean[n];
                for (int i = 0; i < n; i++) side[i] = rnd.nextBoolean();
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) blocked[i][j] = side[i] != side[j];
                trace("split " + Arrays.toString(side));
            }
            case 3 -> {
                int x = rnd.nextInt(n);
                for (int i = 0; i < n; i++) blocked[i][x] = i != x;
                trace("n" + (x + 1) + " cannot receive");
            }
            default -> {
                int x = rnd.nextInt(n);
                for (int i = 0; i < n; i++) blocked[x][i] = i != x;
                trace("n" + (x + 1) + " cannot send");
            }
        }
    }

    private void isolate(int x) {
        for (boolean[] row : blocked) Arrays.fill(row, false);
        for (int i = 0; i < idsUsed; i++) blocked[x][i] = blocked[i][x] = i != x;
        trace("isolated n" + (x + 1));
    }

    private void heal() {
        healed = true;
        for (boolean[] row : blocked) Arrays.fill(row, false);
        for (SimNode n : nodes.values()) if (!n.up) start(n);
        if (!baseConfig.preVote()) stopRemovedServers();
        trace("healed");
    }

    /**
     * Without PreVote a removed server that never learned of its removal keeps campaigning with ever
     * higher terms and disrupts every election (dissertation §4.2.3; CheckQuorum's lease only helps
     * once a leader is up), so an operator stops it. With PreVote removed servers keep running: they
     * must not disrupt. Removed: outside the committed membership of the most advanced node.
     */
    private void stopRemovedServers() {
        SimNode best = null;
        for (SimNode n : nodes.values()) {
            if (best == null || n.rep.commitIndex() > best.rep.commitIndex()) best = n;
        }
        Replication r = best.rep;
        Membership committed = r.snapshotMetaAt(r.commitIndex()).map(SnapshotMeta::membership)
                .orElse(r.snapshotMeta().membership());
        for (SimNode n : nodes.values()) {
            if (committed.member(n.id).isEmpty()) {
                n.up = false;
                n.decommissioned = true;
                n.incarnation++;
                trace("stopped removed server " + n.id);
            }
        }
    }

    private long probeValue;
    private long probeProposedAt;

    /** After healing: keep proposing a probe through the leader until every member applied it. */
    private void probe() {
        SimNode leader = leader();
        if (leader == null) return;
        if (probeValue != 0 && now - probeProposedAt < 30L * TICK) return;
        long v = -(nextCommand++);
        byte[] data = new byte[8];
        ByteBuffer.wrap(data).putLong(v);
        if (leader.rep.propose(data) instanceof ProposeResult.Accepted) {
            probeValue = v;
            probeProposedAt = now;
        }
        afterReplication(leader);
    }

    private boolean converged() {
        SimNode leader = leader();
        if (leader == null || probeValue == 0) return false;
        for (Member m : leader.rep.status().membership().members()) {
            SimNode n = nodes.get(m.id());
            if (n == null || (n.probeApplied > probeValue && !n.decommissioned)) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- checks

    /** Safety after every event on {@code n}: election safety, leader completeness, commits agree. */
    private void check(SimNode n) {
        if (!n.up) return;
        Replication r = n.rep;
        if (r.role() == Role.LEADER) {
            String previous = leaderOfTerm.putIfAbsent(r.term(), n.id);
            if (previous == null) {
                leaders++;
                if (!healed && rnd.nextDouble() < newLeaderCrashP) schedule(1 + rnd.nextInt(3 * TICK), Kind.CRASH, n, null);
                if (!healed && rnd.nextDouble() < newLeaderIsolateP) isolate(n.index);
                trace(n.id + " leads term " + r.term());
                checkLeaderCompleteness(n);
            } else if (!previous.equals(n.id)) {
                fail("election safety: " + previous + " and " + n.id + " both lead term " + r.term());
            }
        }
        long commit = r.commitIndex();
        if (commit > n.checkedCommit) {
            for (long i = n.checkedCommit + 1; i <= commit; i++) checkCommitted(n, i);
            n.checkedCommit = commit;
            if (!healed && r.role() == Role.LEADER && rnd.nextDouble() < commitCrashP) crash(n);
        }
    }

    /** Entries committed anywhere have one term per index (and are recorded for completeness). */
    private void checkCommitted(SimNode n, long i) {
        long t = n.rep.termAt(i);
        if (i < committedTerm.size()) {
            long known = committedTerm.get((int) i);
            if (t >= 0 && known >= 0 && t != known) {
                fail("committed entry " + i + " has term " + t + " on " + n.id + " but " + known + " elsewhere");
            }
            if (known < 0 && t >= 0) committedTerm.set((int) i, t);
            return;
        }
        while (committedTerm.size() < i) committedTerm.add(-1L);
        committedTerm.add(t);
        globalCommit = i;
    }

    /** Leader completeness (Raft paper §5.4): a new leader holds every entry committed before. */
    private void checkLeaderCompleteness(SimNode n) {
        for (long i = n.rep.snapshotMeta().index() + 1; i <= globalCommit; i++) {
            long known = committedTerm.get((int) i);
            if (known >= 0 && n.rep.termAt(i) != known) {
                fail("leader completeness: " + n.id + " leads term " + n.rep.term() + " without committed entry "
                        + i + " (term " + known + ", has " + n.rep.termAt(i) + ")");
            }
        }
    }

    private String describe() {
        StringBuilder b = new StringBuilder();
        for (SimNode n : nodes.values()) {
            var st = n.rep.status();
            b.append(String.format("%n  %s%s term=%d %s leader=%s commit=%d applied=%d last=%d snap=%d voters=%s members=%s match=%s",
                    n.id, n.up ? "" : " (down)", st.term(), st.role(), st.leaderId(), st.commitIndex(), st.appliedIndex(),
                    st.lastIndex(), st.snapshotIndex(), st.membership().voterIds(),
                    st.membership().members().stream().map(m -> m.id()).toList(), st.matchIndex()));
        }
        return b.toString();
    }

    private void fail(String message) {
        throw new Failure(seed, "at time " + now + ": " + message, null);
    }

    private void trace(String s) {
        if (options.trace()) System.out.println("[" + now + "] " + s);
    }
}
