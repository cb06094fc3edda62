package io.cairn.fault;

import io.cairn.fault.KvInput.Delete;
import io.cairn.fault.KvInput.Put;
import io.cairn.fault.KvInput.Read;
import io.cairn.fault.KvInput.Txn;
import io.cairn.fault.KvInput.TxnCheck;
import io.cairn.fault.KvInput.TxnDelete;
import io.cairn.fault.KvInput.TxnOp;
import io.cairn.fault.KvInput.TxnPut;
import io.cairn.fault.KvOutput.Found;
import io.cairn.fault.KvOutput.NotFound;
import io.cairn.fault.KvOutput.PreconditionFailed;
import io.cairn.fault.KvOutput.Written;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Seeded clients that read, write, compare-and-set, delete and run transactions on a handful of
 * keys of one collection, over HTTP, recording every operation in a {@link HistoryRecorder}.
 *
 * <p>Each client runs one request at a time (as a Jepsen process does) against one node, chosen
 * round-robin; what it asks for next comes from its own {@code Random(seed, client)}, so a seed
 * replays the same schedule of requests (the revisions a CAS names depend on what the cluster
 * answered). After an unknown outcome the client takes a fresh client id: its earlier request may
 * still be in flight, so the new ones belong to another "process".
 *
 * <p>Outcomes (API.md): 2xx ok; 404 and 412 are answers (ok, with that output); 409 on a txn is a
 * definite failure; any other 4xx is a definite failure and is counted as unexpected (a harness or
 * server bug); 503, 504, other 5xx, timeouts and connection errors are <em>unknown</em> (503 may
 * come from a follower after the leader already appended: nothing in the API says it did not apply).
 *
 * <p>Stops after {@code opsMax} operations or {@code duration}, whichever comes first.
 */
public final class Workload {
    /** Settings. {@code nodes} are HTTP addresses {@code host:port}. */
    public record Config(long seed, List<String> nodes, String collection, int clients, int keys, int opsMax,
                         Duration duration, Duration requestTimeout, Mix mix, KeyPlan plan) {
        public Config {
            nodes = List.copyOf(nodes);
            if (nodes.isEmpty()) throw new IllegalArgumentException("no nodes");
            if (clients < 1 || keys < 1 || opsMax < 0) throw new IllegalArgumentException("clients, keys >= 1");
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(plan, "plan");
        }

        /**
         * Defaults: 4 clients, 4 single keys and 2 transaction pairs (see {@link KeyPlan#DEFAULT}),
         * 2000 ops or 60 s, 2 s per request, collection {@code fault_<seed>}.
         */
        public static Config of(long seed, List<String> nodes) {
            return new Config(seed, nodes, "fault_" + Long.toUnsignedString(seed, 36), 4, 4, 2_000,
                    Duration.ofSeconds(60), Duration.ofSeconds(2), Mix.DEFAULT, KeyPlan.DEFAULT);
        }

        public Config withClients(int n) {
            return new Config(seed, nodes, collection, n, keys, opsMax, duration, requestTimeout, mix, plan);
        }

        /** How many single keys (groups no transaction touches). */
        public Config withKeys(int n) {
            return new Config(seed, nodes, collection, clients, n, opsMax, duration, requestTimeout, mix, plan);
        }

        public Config withOps(int max, Duration d) {
            return new Config(seed, nodes, collection, clients, keys, max, d, requestTimeout, mix, plan);
        }

        public Config withRequestTimeout(Duration d) {
            return new Config(seed, nodes, collection, clients, keys, opsMax, duration, d, mix, plan);
        }

        public Config withMix(Mix m) {
            return new Config(seed, nodes, collection, clients, keys, opsMax, duration, requestTimeout, m, plan);
        }

        public Config withCollection(String c) {
            return new Config(seed, nodes, c, clients, keys, opsMax, duration, requestTimeout, mix, plan);
        }

        public Config withPlan(KeyPlan p) {
            return new Config(seed, nodes, collection, clients, keys, opsMax, duration, requestTimeout, mix, p);
        }
    }

    /**
     * How operations spread over keys, so that the checker can split the history into small
     * independent parts (P-compositionality) and each part stays searchable:
     * <ul>
     *   <li>single-key operations run on {@code Config.keys} <em>single</em> keys that no
     *       transaction touches; transactions run on {@code pairs} pairs of keys of their own
     *       (reads and writes of one key of a pair are mixed in, to observe what transactions did);</li>
     *   <li>at most {@code clientsPerGroup} clients work on one group (a single key or a pair) at a time;</li>
     *   <li>a group <em>rotates</em> to fresh keys (a new generation: {@code k3}, {@code k3.1}, ...)
     *       after {@code opsPerGeneration} operations or {@code unknownWritesPerGeneration} writes
     *       of unknown outcome, so no part of the history gathers many operations that may take
     *       effect at any later time (each one doubles the search). 0 = never rotate on that count.</li>
     * </ul>
     * Every key stays checked in full; rotation only bounds how long one key lives (as Jepsen's
     * independent keys do).
     */
    public record KeyPlan(int pairs, int clientsPerGroup, int opsPerGeneration, int unknownWritesPerGeneration) {
        public static final KeyPlan DEFAULT = new KeyPlan(2, 2, 150, 4);
        /** One generation per key, no bound on clients per group: the plain "handful of keys" workload. */
        public static final KeyPlan UNBOUNDED = new KeyPlan(0, Integer.MAX_VALUE, 0, 0);

        public KeyPlan {
            if (pairs < 0 || clientsPerGroup < 1 || opsPerGeneration < 0 || unknownWritesPerGeneration < 0) {
                throw new IllegalArgumentException("bad key plan");
            }
        }

        public KeyPlan withPairs(int n) {
            return new KeyPlan(n, clientsPerGroup, opsPerGeneration, unknownWritesPerGeneration);
        }
    }

    /** Relative weights of the operation kinds. */
    public record Mix(int read, int put, int cas, int delete, int txn) {
        public static final Mix DEFAULT = new Mix(40, 20, 20, 5, 15);

        int total() {
            return read + put + cas + delete + txn;
        }
    }

    /** What happened, for the test's report. */
    public record Summary(long seed, int ops, Map<Outcome, Integer> outcomes, int unexpected, List<String> unexpectedSamples,
                          int keys, int rotations) {}

    private final Vertx vertx;
    private final Config config;
    private final HistoryRecorder recorder;
    private final WebClient http;
    private final AtomicInteger budget;
    private final AtomicInteger unexpected = new AtomicInteger();
    private final List<String> unexpectedSamples = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger nextClientId;
    private volatile long deadlineNanos;

    public Workload(Vertx vertx, Config config, HistoryRecorder recorder) {
        this.vertx = vertx;
        this.config = config;
        this.recorder = recorder;
        this.http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true).setConnectTimeout(
                (int) Math.min(Integer.MAX_VALUE, config.requestTimeout().toMillis())));
        this.budget = new AtomicInteger(config.opsMax());
        this.nextClientId = new AtomicInteger(config.clients());
    }

    public Config config() {
        return config;
    }

    public String key(int i) {
        return config.collection() + "/k" + i;
    }

    /** Runs every client to the end; completes when all have stopped. Prints the seed first. */
    public Future<Summary> run() {
        System.out.println("workload seed=" + config.seed() + " (replay: the same seed gives the same schedule)");
        deadlineNanos = System.nanoTime() + config.duration().toNanos();
        makeGroups();
        List<Future<Void>> clients = new ArrayList<>();
        for (int c = 0; c < config.clients(); c++) {
            Client client = new Client(c);
            clients.add(client.start());
        }
        return Future.join(clients).map(v -> {
            synchronized (groupLock) {
                return new Summary(config.seed(), config.opsMax() - Math.max(0, budget.get()), recorder.counts(),
                        unexpected.get(), List.copyOf(unexpectedSamples), keysUsed.size(), rotations);
            }
        });
    }

    /** Ends the run early: each client stops after its request in flight. */
    public void stop() {
        deadlineNanos = System.nanoTime();
    }

    /** Closes the HTTP client. */
    public void close() {
        http.close();
    }

    /** A key group: one single key, or a pair of keys for transactions, and its current generation. */
    private static final class Group {
        final int index;
        final boolean pair;
        int generation;
        int ops;
        int unknownWrites;
        int inFlight;

        Group(int index, boolean pair) {
            this.index = index;
            this.pair = pair;
        }
    }

    /** A client's hold on a group for one operation: the keys of the generation it used. */
    private record Lease(Group group, int generation, List<String> keys) {}

    private final Object groupLock = new Object();
    private List<Group> singles;
    private List<Group> pairs;
    private int rotations;
    private final List<String> keysUsed = new ArrayList<>();

    private void makeGroups() {
        synchronized (groupLock) {
            singles = new ArrayList<>();
            pairs = new ArrayList<>();
            for (int i = 0; i < config.keys(); i++) singles.add(new Group(i, false));
            for (int i = 0; i < config.plan().pairs(); i++) pairs.add(new Group(i, true));
            for (Group g : singles) keysUsed.addAll(keysOf(g));
            for (Group g : pairs) keysUsed.addAll(keysOf(g));
        }
    }

    private List<String> keysOf(Group g) {
        String suffix = g.generation == 0 ? "" : "." + g.generation;
        if (!g.pair) return List.of(key(g.index) + suffix);
        String base = config.collection() + "/t" + g.index;
        return List.of(base + "a" + suffix, base + "b" + suffix);
    }

    /** Takes a group of the list, starting at {@code start}, skipping groups that are at their client bound. */
    private Lease acquire(List<Group> groups, int start) {
        synchronized (groupLock) {
            Group chosen = groups.get(start);
            for (int i = 0; i < groups.size(); i++) {
                Group g = groups.get((start + i) % groups.size());
                if (g.inFlight < config.plan().clientsPerGroup()) {
                    chosen = g;
                    break;
                }
            }
            Lease lease = new Lease(chosen, chosen.generation, keysOf(chosen));
            chosen.inFlight++;
            chosen.ops++;
            int opsMax = config.plan().opsPerGeneration();
            if (opsMax > 0 && chosen.ops >= opsMax) rotate(chosen);
            return lease;
        }
    }

    private void release(Lease lease, boolean unknownWrite) {
        if (lease == null) return;
        synchronized (groupLock) {
            Group g = lease.group();
            g.inFlight--;
            if (!unknownWrite || g.generation != lease.generation()) return;
            g.unknownWrites++;
            int max = config.plan().unknownWritesPerGeneration();
            if (max > 0 && g.unknownWrites >= max) rotate(g);
        }
    }

    private void rotate(Group g) {
        g.generation++;
        g.ops = 0;
        g.unknownWrites = 0;
        rotations++;
        keysUsed.addAll(keysOf(g));
    }

    /** One request a client is about to make, and the group it holds for it. */
    private record Choice(KvInput input, Lease lease) {}

    /** One sequential client: its own random stream, node and id. */
    private final class Client {
        final int index;
        final Random random;
        final Context context;
        final Promise<Void> done = Promise.promise();
        final Map<String, Long> knownRevs = new HashMap<>();
        int clientId;
        int node;
        int written;

        Client(int index) {
            this.index = index;
            this.random = new Random(config.seed() * 1_000_003L + index);
            this.context = vertx.getOrCreateContext();
            this.clientId = index;
            this.node = index % config.nodes().size();
        }

        Future<Void> start() {
            context.runOnContext(v -> next());
            return done.future();
        }

        /** Each step runs from a fresh event-loop task: no recursion, however long the run. */
        void next() {
            if (System.nanoTime() - deadlineNanos > 0 || budget.getAndDecrement() <= 0) {
                done.tryComplete();
                return;
            }
            Choice choice = choose();
            KvInput input = choice.input();
            HistoryRecorder.Pending p = recorder.invoke(clientId, input);
            send(input).onComplete(ar -> {
                Answer a = ar.succeeded() ? ar.result() : failure(ar.cause());
                recorder.complete(p, a.output(), a.outcome());
                release(choice.lease(), a.outcome() == Outcome.UNKNOWN && !isReadOnly(input));
                learn(input, a);
                if (a.outcome() == Outcome.UNKNOWN) {
                    clientId = nextClientId.getAndIncrement();
                }
                if (a.outcome() != Outcome.OK) {
                    node = (node + 1) % config.nodes().size(); // the node may be the one in trouble
                }
                context.runOnContext(v -> next());
            });
        }

        void learn(KvInput input, Answer a) {
            if (a.outcome() != Outcome.OK) return;
            if (a.output() instanceof Found f) knownRevs.put(((Read) input).key(), f.rev());
            else if (a.output() instanceof NotFound) knownRevs.put(input.keys().get(0), 0L);
            else if (a.output() instanceof Written w) {
                if (input instanceof Delete d) knownRevs.put(d.key(), 0L);
                else if (input instanceof Put p) knownRevs.put(p.key(), w.rev());
                else if (input instanceof Txn t) {
                    for (TxnOp op : t.ops()) {
                        if (op instanceof TxnPut) knownRevs.put(op.key(), w.rev());
                        else if (op instanceof TxnDelete) knownRevs.put(op.key(), 0L);
                    }
                }
            }
        }

        String newValue() {
            return "c" + index + "-" + (written++);
        }

        /** A rev this client last saw for the key (0 = absent), or now and then a stale or made-up one. */
        long revFor(String key) {
            Long known = knownRevs.get(key);
            if (known != null && random.nextInt(10) < 8) return known;
            return random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(50);
        }

        Choice choose() {
            Mix mix = config.mix();
            int roll = random.nextInt(mix.total());
            boolean txn = roll >= mix.total() - mix.txn();
            if (txn && !pairs.isEmpty()) {
                Lease lease = acquire(pairs, random.nextInt(pairs.size()));
                return new Choice(pairTxn(lease.keys()), lease);
            }
            if (txn) return new Choice(wideTxn(), null);
            Lease lease;
            String key;
            if (!pairs.isEmpty() && mix.txn() > 0 && random.nextInt(4) == 0) {
                lease = acquire(pairs, random.nextInt(pairs.size()));
                key = lease.keys().get(random.nextInt(2));
            } else {
                lease = acquire(singles, random.nextInt(singles.size()));
                key = lease.keys().get(0);
            }
            return new Choice(single(roll, key), lease);
        }

        KvInput single(int roll, String key) {
            Mix mix = config.mix();
            if ((roll -= mix.read()) < 0) return new Read(key);
            if ((roll -= mix.put()) < 0) return Put.plain(key, newValue());
            if ((roll -= mix.cas()) < 0) {
                long rev = revFor(key);
                return rev == 0 ? Put.ifAbsent(key, newValue()) : Put.ifMatch(key, newValue(), rev);
            }
            return new Delete(key, random.nextBoolean() ? null : nonZero(revFor(key)));
        }

        /** A transaction on both keys of a pair, in a random order. */
        KvInput pairTxn(List<String> keys) {
            List<String> ks = new ArrayList<>(keys);
            if (random.nextBoolean()) Collections.reverse(ks);
            List<TxnOp> ops = new ArrayList<>();
            for (String k : ks) ops.add(txnOp(k));
            return new Txn(ops);
        }

        /** A transaction on 2-3 of the single keys (only when the plan has no pairs). */
        KvInput wideTxn() {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < config.keys(); i++) idx.add(i);
            Collections.shuffle(idx, random);
            int n = Math.min(config.keys(), 2 + random.nextInt(2));
            List<TxnOp> ops = new ArrayList<>();
            for (int i = 0; i < n; i++) ops.add(txnOp(key(idx.get(i))));
            return new Txn(ops);
        }

        TxnOp txnOp(String k) {
            int kind = random.nextInt(10);
            if (kind < 6) return new TxnPut(k, newValue(), random.nextBoolean() ? revFor(k) : null);
            if (kind < 8) return new TxnCheck(k, revFor(k));
            return new TxnDelete(k, random.nextBoolean() ? nonZero(revFor(k)) : null);
        }

        Long nonZero(long rev) {
            return rev == 0 ? null : rev;
        }

        Future<Answer> send(KvInput input) {
            String base = config.nodes().get(node);
            int colon = base.lastIndexOf(':');
            String host = base.substring(0, colon);
            int port = Integer.parseInt(base.substring(colon + 1));
            long timeout = config.requestTimeout().toMillis();
            if (input instanceof Read r) {
                return request(HttpMethod.GET, port, host, docPath(r.key()), timeout).send().map(Workload.this::readAnswer);
            }
            if (input instanceof Put p) {
                HttpRequest<Buffer> req = request(HttpMethod.PUT, port, host, docPath(p.key()), timeout);
                if (p.ifMatch() != null) req.putHeader("If-Match", "\"" + p.ifMatch() + "\"");
                if (p.ifAbsent()) req.putHeader("If-None-Match", "*");
                return req.sendJsonObject(new JsonObject().put("v", p.value())).map(Workload.this::writeAnswer);
            }
            if (input instanceof Delete d) {
                HttpRequest<Buffer> req = request(HttpMethod.DELETE, port, host, docPath(d.key()), timeout);
                if (d.ifRev() != null) req.putHeader("If-Match", "\"" + d.ifRev() + "\"");
                return req.send().map(Workload.this::deleteAnswer);
            }
            Txn t = (Txn) input;
            return request(HttpMethod.POST, port, host, "/v1/txn", timeout).sendJsonObject(txnBody(t)).map(Workload.this::txnAnswer);
        }
    }

    private static boolean isReadOnly(KvInput input) {
        if (input instanceof Read) return true;
        return input instanceof Txn t && t.ops().stream().allMatch(op -> op instanceof TxnCheck);
    }

    /**
     * A request that got no HTTP answer. A connection that could not be opened carried nothing:
     * the request definitely did not happen. Anything else (timeout, reset, closed) may have
     * reached the server: unknown.
     */
    static Answer failure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) return new Answer(KvOutput.UNKNOWN, Outcome.FAILED);
        }
        return UNKNOWN;
    }

    private HttpRequest<Buffer> request(HttpMethod method, int port, String host, String path, long timeoutMillis) {
        return http.request(method, port, host, path).timeout(timeoutMillis);
    }

    private String docPath(String key) {
        int slash = key.indexOf('/');
        return "/v1/collections/" + key.substring(0, slash) + "/docs/" + encode(key.substring(slash + 1));
    }

    static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static JsonObject txnBody(Txn t) {
        JsonArray ops = new JsonArray();
        for (TxnOp op : t.ops()) {
            int slash = op.key().indexOf('/');
            JsonObject o = new JsonObject().put("collection", op.key().substring(0, slash)).put("key", op.key().substring(slash + 1));
            if (op instanceof TxnPut p) {
                o.put("op", "put").put("doc", new JsonObject().put("v", p.value()));
                if (p.ifRev() != null) o.put("ifRev", p.ifRev());
            } else if (op instanceof TxnDelete d) {
                o.put("op", "delete");
                if (d.ifRev() != null) o.put("ifRev", d.ifRev());
            } else {
                o.put("op", "check").put("rev", ((TxnCheck) op).rev());
            }
            ops.add(o);
        }
        return new JsonObject().put("ops", ops);
    }

    /** What one response means for the history. */
    record Answer(KvOutput output, Outcome outcome) {}

    private static final Answer UNKNOWN = new Answer(KvOutput.UNKNOWN, Outcome.UNKNOWN);

    private Answer readAnswer(HttpResponse<Buffer> r) {
        int s = r.statusCode();
        if (s == 200) {
            JsonObject doc = body(r);
            Object v = doc == null ? null : doc.getValue("v");
            if (v == null) contract(r, "a document without the \"v\" the workload wrote");
            return new Answer(new Found(String.valueOf(v), etag(r), rev(r, "X-Cairn-Rev")), Outcome.OK);
        }
        if (s == 404) return new Answer(new NotFound(rev(r, "X-Cairn-Rev")), Outcome.OK);
        return other(r);
    }

    private Answer writeAnswer(HttpResponse<Buffer> r) {
        int s = r.statusCode();
        if (s == 200 || s == 201) return new Answer(new Written(bodyRev(r)), Outcome.OK);
        if (s == 412) return new Answer(new PreconditionFailed(-1), Outcome.OK);
        return other(r);
    }

    private Answer deleteAnswer(HttpResponse<Buffer> r) {
        int s = r.statusCode();
        if (s == 204 || s == 200) return new Answer(new Written(rev(r, "X-Cairn-Rev")), Outcome.OK);
        if (s == 404) return new Answer(new NotFound(rev(r, "X-Cairn-Rev")), Outcome.OK);
        if (s == 412) return new Answer(new PreconditionFailed(-1), Outcome.OK);
        return other(r);
    }

    private Answer txnAnswer(HttpResponse<Buffer> r) {
        int s = r.statusCode();
        if (s == 200) return new Answer(new Written(bodyRev(r)), Outcome.OK);
        if (s == 412) {
            JsonObject body = body(r);
            JsonObject error = body == null ? new JsonObject() : body.getJsonObject("error", new JsonObject());
            Integer failedOp = error.getInteger("failedOp");
            if (failedOp == null) contract(r, "a txn 412 without error.failedOp");
            return new Answer(new PreconditionFailed(failedOp == null ? -1 : failedOp), Outcome.OK);
        }
        if (s == 404) {
            JsonObject error = errorOf(r);
            Integer failedOp = error.getInteger("failedOp");
            if (failedOp == null || !"not_found".equals(error.getString("code"))) {
                contract(r, "a txn 404 without error.failedOp");
                return new Answer(KvOutput.UNKNOWN, Outcome.FAILED);
            }
            return new Answer(new KvOutput.TxnNotFound(failedOp), Outcome.OK);
        }
        return other(r);
    }

    private Answer other(HttpResponse<Buffer> r) {
        int s = r.statusCode();
        // README "Guarantees": a write answered 503 no_leader was not applied (refused before it
        // entered the log, or its entry was overwritten by another leader's). Definite.
        if (s == 503 && "no_leader".equals(errorOf(r).getString("code"))) return new Answer(KvOutput.UNKNOWN, Outcome.FAILED);
        if (s >= 500) return UNKNOWN;
        if (s == 409 || s == 404) return new Answer(KvOutput.UNKNOWN, Outcome.FAILED); // definite: nothing applied
        contract(r, "unexpected status");
        return new Answer(KvOutput.UNKNOWN, Outcome.FAILED);
    }

    /** Counts an answer that breaks API.md (the op is still recorded as well as it can be). */
    private void contract(HttpResponse<Buffer> r, String what) {
        unexpected.incrementAndGet();
        if (unexpectedSamples.size() < 10) unexpectedSamples.add(what + ": " + r.statusCode() + " " + r.bodyAsString());
    }

    private static JsonObject errorOf(HttpResponse<Buffer> r) {
        JsonObject body = body(r);
        Object e = body == null ? null : body.getValue("error");
        return e instanceof JsonObject o ? o : new JsonObject();
    }

    private static JsonObject body(HttpResponse<Buffer> r) {
        try {
            return r.bodyAsJsonObject();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The {@code rev} of a write's body; 0 (unknown to the model) and a contract note if absent. */
    private long bodyRev(HttpResponse<Buffer> r) {
        JsonObject body = body(r);
        Object rev = body == null ? null : body.getValue("rev");
        if (rev instanceof Number n) return n.longValue();
        contract(r, "a write answer without a numeric rev");
        return 0;
    }

    private long etag(HttpResponse<Buffer> r) {
        String e = r.getHeader("ETag");
        try {
            return Long.parseLong(e.replace("W/", "").replace("\"", "").trim());
        } catch (RuntimeException ex) {
            contract(r, "ETag " + e + " is not \"<rev>\"");
            return 0;
        }
    }

    private long rev(HttpResponse<Buffer> r, String header) {
        String v = r.getHeader(header);
        try {
            return Long.parseLong(v.trim());
        } catch (RuntimeException e) {
            contract(r, header + " missing or not a number: " + v);
            return 0;
        }
    }

    // ---- the committed history, from the long-poll change feed

    /**
     * Reads every change after {@code after} from {@code node}'s long-poll feed
     * ({@code GET /v1/changes?after=&limit=}), page by page, until a page comes back empty; the
     * result is numbered per rev in the order served. Use on a healed, quiet cluster.
     */
    public static Future<List<StreamChecker.Committed>> fetchCommitted(Vertx vertx, String node, long after) {
        WebClient client = WebClient.create(vertx);
        int colon = node.lastIndexOf(':');
        String host = node.substring(0, colon);
        int port = Integer.parseInt(node.substring(colon + 1));
        List<StreamChecker.Committed> out = new ArrayList<>();
        Promise<List<StreamChecker.Committed>> promise = Promise.promise();
        Context context = vertx.getOrCreateContext();
        Runnable[] page = new Runnable[1];
        long[] cursor = {after};
        page[0] = () -> client.get(port, host, "/v1/changes?after=" + cursor[0] + "&limit=1000&waitMs=0").timeout(10_000).send()
                .onFailure(e -> promise.tryFail(e))
                .onSuccess(r -> {
                    if (r.statusCode() != 200) {
                        promise.tryFail(new IllegalStateException("GET /v1/changes: " + r.statusCode() + " " + r.bodyAsString()));
                        return;
                    }
                    JsonObject body = r.bodyAsJsonObject();
                    JsonArray changes = body.getJsonArray("changes", new JsonArray());
                    for (Object o : changes) {
                        JsonObject c = (JsonObject) o;
                        long rev = c.getLong("rev");
                        StreamChecker.Committed prev = out.isEmpty() ? null : out.get(out.size() - 1);
                        int seq = prev != null && prev.rev() == rev ? prev.seq() + 1 : 0;
                        out.add(new StreamChecker.Committed(rev, seq, c.getString("collection"), c.getString("key"), c.getString("op")));
                    }
                    long next = body.getLong("rev", cursor[0]);
                    if (changes.isEmpty() || next <= cursor[0]) {
                        promise.tryComplete(out);
                    } else {
                        cursor[0] = next;
                        context.runOnContext(v -> page[0].run());
                    }
                });
        context.runOnContext(v -> page[0].run());
        return promise.future().eventually(() -> {
            client.close();
            return Future.succeededFuture();
        });
    }

    /** Every key the workload has used so far (all generations), as the checker names them. */
    public List<String> keys() {
        synchronized (groupLock) {
            return List.copyOf(keysUsed);
        }
    }
}
