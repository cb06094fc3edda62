package io.cairn.raft;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * A synchronous, hand-driven cluster for unit tests: Readies are persisted and advanced at once,
 * in-node records delivered at once, and messages wait in one FIFO queue until {@link #deliver()}.
 * Tests pick what to drop with {@link #drop}.
 */
final class RaftHarness {
    static final class Node {
        final String id;
        final Config config;
        Replication rep;
        Election elec;
        // The "disk": exactly what persisted Readies wrote.
        HardState hardState = HardState.EMPTY;
        SnapshotMeta snapshot;
        byte[] snapshotData = new byte[0];
        final List<Entry> log = new ArrayList<>();
        ByteArrayOutputStream pendingSnapshot = new ByteArrayOutputStream();
        // The "state machine": everything applied, and read results.
        final List<Entry> applied = new ArrayList<>();
        long appliedIndex;
        final List<ReadResult> reads = new ArrayList<>();
        final List<Ready> readies = new ArrayList<>();
        boolean down;

        Node(String id, Config config, DurableState state) {
            this.id = id;
            this.config = config;
            this.snapshot = state.snapshot();
            this.log.addAll(state.entries());
            this.hardState = state.hardState();
        }

        Status status() {
            return rep.status();
        }

        List<byte[]> appliedData() {
            return applied.stream().filter(e -> e.type() == EntryType.NORMAL).map(Entry::data).toList();
        }
    }

    final Map<String, Node> nodes = new LinkedHashMap<>();
    final ArrayDeque<Message> network = new ArrayDeque<>();
    final List<Message> sent = new ArrayList<>();
    Predicate<Message> drop = m -> false;
    private final SplittableRandom random;
    /** Snapshot-chunk reads answered by the "application" (peer -> count). */
    int snapshotReadsServed;

    RaftHarness(long seed) {
        this.random = new SplittableRandom(seed);
    }

    static Config config(String id) {
        return new Config(id, 10, 1, 4, 256, 4, 16, true, true, 2, 64, 1 << 20, 1 << 20, 1024, 64, 2, 4096);
    }

    static Membership voters(String... ids) {
        return new Membership(Arrays.stream(ids).map(i -> new Member(i, i + ":7000", i + ":8080", true)).toList());
    }

    static RaftHarness cluster(int n) {
        RaftHarness h = new RaftHarness(n * 7919L);
        String[] ids = new String[n];
        for (int i = 0; i < n; i++) ids[i] = "n" + (i + 1);
        Membership m = voters(ids);
        for (String id : ids) h.add(config(id), DurableState.bootstrap(m));
        return h;
    }

    Node add(Config config, DurableState state) {
        Node n = new Node(config.id(), config, state);
        start(n, state);
        nodes.put(n.id, n);
        return n;
    }

    private void start(Node n, DurableState state) {
        n.rep = new Replication(n.config, state);
        n.elec = new Election(n.config, random.split());
        n.appliedIndex = state.appliedIndex();
        n.down = false;
        process(n);
    }

    Node node(String id) {
        return nodes.get(id);
    }

    void tick(String id) {
        Node n = nodes.get(id);
        if (n.down) return;
        n.rep.tick();
        n.elec.tick();
        process(n);
    }

    void tickAll() {
        for (String id : nodes.keySet()) tick(id);
    }

    /** Ticks everyone and delivers everything, {@code ticks} times. */
    void run(int ticks) {
        for (int i = 0; i < ticks; i++) {
            tickAll();
            deliver();
        }
    }

    /** Runs until some node leads (at most {@code ticksMax}); returns it. */
    Node electLeader(int ticksMax) {
        for (int i = 0; i < ticksMax; i++) {
            Node l = leader();
            if (l != null) return l;
            run(1);
        }
        throw new AssertionError("no leader after " + ticksMax + " ticks");
    }

    Node leader() {
        Node best = null;
        for (Node n : nodes.values()) {
            if (!n.down && n.rep.role() == Role.LEADER && (best == null || n.rep.term() > best.rep.term())) best = n;
        }
        return best;
    }

    /** Delivers queued messages (and whatever they cause) until the network is empty. */
    void deliver() {
        int steps = 0;
        while (!network.isEmpty()) {
            if (++steps > 1_000_000) throw new AssertionError("message storm");
            deliverOne(network.pollFirst());
        }
    }

    void deliverOne(Message m) {
        Node to = nodes.get(m.to());
        if (to == null || to.down || drop.test(m)) return;
        Message copy = MessageCodec.decode(MessageCodec.encode(m));
        if (Route.of(copy) == Route.ELECTION) {
            to.elec.step(copy);
        } else {
            to.rep.step(copy);
        }
        process(to);
    }

    void process(Node n) {
        boolean again = true;
        while (again) {
            again = false;
            if (n.elec.hasOutput()) {
                Election.Output o = n.elec.drain();
                send(o.messages());
                o.toReplication().forEach(n.rep::receive);
                again = true;
            }
            if (n.rep.hasReady()) {
                handleReady(n, n.rep.ready());
                again = true;
            }
        }
    }

    private void send(List<Message> messages) {
        network.addAll(messages);
        sent.addAll(messages);
    }

    private void handleReady(Node n, Ready r) {
        n.readies.add(r);
        persist(n, r);
        n.rep.advance(r);
        send(r.messages());
        r.toElection().forEach(n.elec::receive);
        for (Entry e : r.committedEntries()) {
            if (e.index() != n.appliedIndex + 1) throw new AssertionError(n.id + " applies " + e.index() + " after " + n.appliedIndex);
            n.applied.add(e);
            n.appliedIndex = e.index();
        }
        n.reads.addAll(r.readResults());
        for (Ready.SnapshotRead sr : r.snapshotReads()) serveSnapshotRead(n, sr);
    }

    private void persist(Node n, Ready r) {
        for (Ready.SnapshotChunk c : r.snapshotChunks()) {
            if (c.offset() == 0) n.pendingSnapshot = new ByteArrayOutputStream();
            n.pendingSnapshot.writeBytes(c.data());
        }
        if (r.snapshotToInstall() != null) {
            n.snapshot = r.snapshotToInstall();
            n.snapshotData = n.pendingSnapshot.toByteArray();
            n.log.clear();
            n.applied.clear();
            n.appliedIndex = n.snapshot.index();
        }
        if (!r.entries().isEmpty()) {
            long first = r.entries().get(0).index();
            while (!n.log.isEmpty() && n.log.get(n.log.size() - 1).index() >= first) n.log.remove(n.log.size() - 1);
            n.log.addAll(r.entries());
        }
        if (r.hardState() != null) n.hardState = r.hardState();
    }

    private void serveSnapshotRead(Node n, Ready.SnapshotRead sr) {
        if (!sr.meta().equals(n.snapshot)) {
            n.rep.snapshotUnavailable(sr.peer(), sr.meta());
            return;
        }
        int from = (int) Math.min(sr.offset(), n.snapshotData.length);
        int to = (int) Math.min(n.snapshotData.length, from + (long) sr.bytesMax());
        snapshotReadsServed++;
        n.rep.snapshotChunkRead(sr.peer(), sr.meta(), sr.offset(), Arrays.copyOfRange(n.snapshotData, from, to),
                to == n.snapshotData.length);
    }

    /** The application snapshots its state at its applied index and compacts the log. */
    void snapshotAndCompact(String id, byte[] data) {
        Node n = nodes.get(id);
        SnapshotMeta meta = n.rep.snapshotMetaAt(n.appliedIndex).orElseThrow();
        n.snapshot = meta;
        n.snapshotData = data;
        n.log.removeIf(e -> e.index() <= meta.index());
        n.rep.compact(meta);
        process(n);
    }

    void crash(String id) {
        nodes.get(id).down = true;
    }

    void restart(String id) {
        Node n = nodes.get(id);
        n.applied.clear();
        n.appliedIndex = n.snapshot.index();
        start(n, new DurableState(n.hardState, n.snapshot, List.copyOf(n.log), n.snapshot.index()));
    }

    /** Cuts {@code id} off from everyone (both directions). */
    void isolate(String id) {
        drop = m -> m.from().equals(id) || m.to().equals(id);
    }

    void heal() {
        drop = m -> false;
    }

    long count(Predicate<Message> p) {
        return sent.stream().filter(p).count();
    }
}
