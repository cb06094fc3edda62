package io.cairn.k8s;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous writes through the client Service: each writer thread PUTs its next key to a ready
 * pod (round robin over {@link StatefulSetSim#endpoints()}), retrying the same write (PUT is
 * idempotent) on the next pod until one acknowledges it (200/201). Records every acknowledged
 * key with its value, and for each write how long it was unavailable: from its first attempt to
 * its acknowledgement.
 */
final class Writers implements AutoCloseable {
    static final String COLLECTION = "k8s";
    private static final long RETRY_PAUSE_MILLIS = 20;

    private final StatefulSetSim sim;
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong longestNanos = new AtomicLong();
    /** Failed attempts that took long, with when and where (to read beside the pods' logs). */
    private final List<String> slow = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final long SLOW_MILLIS = 1_000;
    private volatile String longestWhat = "";
    private volatile boolean stop;

    Writers(StatefulSetSim sim, int threads) {
        this.sim = sim;
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> run(id), "writer-" + t);
            th.setDaemon(true);
            this.threads.add(th);
        }
    }

    Writers start() {
        threads.forEach(Thread::start);
        return this;
    }

    private void run(int id) {
        long rr = id;
        for (long seq = 0; !stop; seq++) {
            String key = "w" + id + "-" + seq;
            String body = new JsonObject().put("writer", id).put("seq", seq).encode();
            long first = System.nanoTime();
            String lastFailure = "";
            while (!stop) {
                List<StatefulSetSim.Pod> endpoints = sim.endpoints();
                if (endpoints.isEmpty()) {
                    lastFailure = "no ready endpoint";
                    pause();
                    continue;
                }
                StatefulSetSim.Pod pod = endpoints.get((int) (rr++ % endpoints.size()));
                attempts.incrementAndGet();
                java.time.Instant sent = java.time.Instant.now();
                long attemptStart = System.nanoTime();
                HttpResponse<String> r = sim.sendViaService(pod, HttpRequest.newBuilder(URI.create("http://" + pod.httpAddress()
                                + "/v1/collections/" + COLLECTION + "/docs/" + key))
                        .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)));
                if (r != null && (r.statusCode() == 200 || r.statusCode() == 201)) {
                    acknowledged.put(key, seq);
                    long took = System.nanoTime() - first;
                    if (took > longestNanos.get()) {
                        longestNanos.set(took);
                        longestWhat = key + " (" + (took / 1_000_000) + " ms; before: " + lastFailure + ")";
                    }
                    break;
                }
                failedAttempts.incrementAndGet();
                lastFailure = pod.name + ": " + (r == null ? "no answer" : r.statusCode() + " " + r.body());
                long attemptMillis = (System.nanoTime() - attemptStart) / 1_000_000;
                if (attemptMillis >= SLOW_MILLIS) slow.add(key + " to " + pod.name + " at " + sent + " failed after " + attemptMillis + " ms: " + lastFailure);
                pause();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(RETRY_PAUSE_MILLIS); // back-off between attempts, not a wait for an outcome
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Key → value of every write acknowledged so far. */
    Map<String, Long> acknowledged() {
        return Map.copyOf(acknowledged);
    }

    long longestUnavailableMillis() {
        return longestNanos.get() / 1_000_000;
    }

    String longestWhat() {
        return longestWhat;
    }

    List<String> slowFailures() {
        return List.copyOf(slow);
    }

    String summary() {
        return acknowledged.size() + " writes acknowledged, " + attempts.get() + " attempts (" + failedAttempts.get()
                + " failed); longest unavailable: " + longestWhat;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        for (Thread t : threads) t.join(10_000);
    }
}
