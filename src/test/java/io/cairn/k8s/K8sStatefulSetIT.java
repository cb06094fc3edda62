package io.cairn.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, shown on processes: the StatefulSet of {@code k8s/} played by {@link StatefulSetSim}
 * forms 3 pods, scales to 5 (the new pods join and are promoted), back to 3 (SIGTERM to pods 3 and
 * 4, the leader among them, with the API saying replicas=3: they leave first), then rolls every pod (SIGTERM with
 * replicas=3: each restarts and stays a member), then scales to 4 (cairn-3 returns on the volume it
 * left with, clears it and joins again), all under continuous writes. No acknowledged
 * write is lost, and no write waits longer than one election (plus a request's round trip).
 * Runs after {@code package} (it needs target/cairn.jar); {@code -Dcairn.k8s.keep=true} keeps the
 * temp directory, and a failure copies the pods' logs to {@code target/k8s-logs}.
 */
class K8sStatefulSetIT {
    private static final Duration READY = Duration.ofSeconds(60);

    @Test
    void formScaleUpScaleDownAndRollUnderWritesLosingNothing() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(StatefulSetSim.JAR), "target/cairn.jar is missing: run after package");
        long t0 = System.nanoTime();
        try (StatefulSetSim sim = new StatefulSetSim()) {
            try {
                run(sim, t0);
            } catch (AssertionError | RuntimeException e) {
                Path logs = Path.of("target", "k8s-logs");
                sim.saveLogs(logs);
                System.out.println("pod logs kept in " + logs.toAbsolutePath());
                throw e;
            }
        }
    }

    private void run(StatefulSetSim sim, long t0) throws Exception {
        int initial = Integer.parseInt(Manifests.podEnv(Manifests.load().container(), "x", "ns").get("CAIRN_K8S_INITIAL_REPLICAS"));
        // the bound: one election timeout at most (ticks x 2, randomized) plus one request's time
        long electionMillis = 2L * 10 * 50;
        long boundMillis = electionMillis + 1_000;

        sim.scale(initial, READY);
        progress(t0, "formed " + initial + ": " + sim.members(sim.pod(0)));
        awaitMembers(sim, names(sim, initial), initial);

        try (Writers writers = new Writers(sim, 2).start()) {
            awaitAcks(writers, 50);
            progress(t0, "writing: " + writers.summary());

            sim.scale(5, READY);
            awaitMembers(sim, names(sim, 5), 5);
            progress(t0, "scaled to 5, all voters: " + writers.summary());

            // the hardest leaver is the leader: it removes itself, steps down and hands off
            HttpResponse<String> moved = sim.send(sim.pod(0), java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://" + sim.pod(0).httpAddress() + "/v1/cluster/leader"))
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"to\":\"cairn-4\"}")));
            assertThat(moved).isNotNull();
            assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
            progress(t0, "cairn-4 leads");

            sim.scale(3, READY);
            awaitMembers(sim, names(sim, 3), 3);
            for (int i = 3; i < 5; i++) {
                assertThat(sim.log(sim.pod(i))).as("cairn-%d's log", i).contains("left the membership");
                assertThat(sim.pod(i).pvc.resolve(K8sPod.LEFT_MARK)).exists();
            }
            progress(t0, "scaled to 3, pods 3 and 4 left: " + writers.summary());

            long acksBefore = writers.acknowledged().size();
            sim.rollingRestart(READY, what -> progress(t0, what));
            awaitMembers(sim, names(sim, 3), 3);
            awaitAcks(writers, acksBefore + 50);
            for (int i = 0; i < 3; i++) {
                assertThat(sim.log(sim.pod(i))).as("cairn-%d's log", i).contains("stops as a restart");
                assertThat(sim.pod(i).pvc.resolve(K8sPod.LEFT_MARK)).doesNotExist();
            }
            progress(t0, "rolled: " + writers.summary());

            // cairn-3 comes back on the volume it left with: it clears it and joins as a new member
            sim.scale(4, READY);
            awaitMembers(sim, names(sim, 4), 4);
            assertThat(sim.log(sim.pod(3))).contains("clearing it to join afresh");
            assertThat(sim.pod(3).pvc.resolve(K8sPod.LEFT_MARK)).doesNotExist();
            progress(t0, "scaled to 4, cairn-3 rejoined on its old volume: " + writers.summary());
            writers.close();

            Map<String, Long> acked = writers.acknowledged();
            for (int i = 0; i < 4; i++) {
                Map<String, Long> stored = readAll(sim, sim.pod(i));
                Map<String, String> lost = new TreeMap<>();
                acked.forEach((k, v) -> {
                    if (!v.equals(stored.get(k))) lost.put(k, "acknowledged " + v + ", stored " + stored.get(k));
                });
                assertThat(lost).as("acknowledged writes missing on cairn-%d", i).isEmpty();
            }
            writers.slowFailures().forEach(f -> progress(t0, "slow failed attempt: " + f));
            assertThat(writers.longestUnavailableMillis()).as("longest unavailable write: %s", writers.longestWhat())
                    .isLessThanOrEqualTo(boundMillis);
            assertThat(sim.api().requests()).as("each stop asked the API").hasSizeGreaterThanOrEqualTo(5);
            progress(t0, "checked " + acked.size() + " acknowledged writes on 4 pods; " + writers.summary());
        }
    }

    private static List<String> names(StatefulSetSim sim, int n) {
        return java.util.stream.IntStream.range(0, n).mapToObj(i -> sim.pod(i).name).toList();
    }

    /** Every running pod reports exactly {@code ids} as members, all voters. */
    private static void awaitMembers(StatefulSetSim sim, List<String> ids, int n) {
        Map<String, Boolean> want = new TreeMap<>();
        ids.forEach(id -> want.put(id, true));
        StatefulSetSim.until("members " + ids + " all voters on every pod", READY, () -> {
            for (int i = 0; i < n; i++) {
                if (!sim.members(sim.pod(i)).equals(want)) return false;
            }
            return true;
        }, () -> {
            Map<String, Object> seen = new HashMap<>();
            for (int i = 0; i < n; i++) seen.put(sim.pod(i).name, sim.members(sim.pod(i)));
            return seen.toString();
        });
    }

    private static void awaitAcks(Writers writers, long n) {
        StatefulSetSim.until(n + " acknowledged writes", READY, () -> writers.acknowledged().size() >= n, writers::summary);
    }

    /** Every document of the collection, read (linearizably) on {@code pod}, page by page. */
    private static Map<String, Long> readAll(StatefulSetSim sim, StatefulSetSim.Pod pod) {
        Map<String, Long> out = new HashMap<>();
        String after = null;
        while (true) {
            String q = "/v1/collections/" + Writers.COLLECTION + "/docs?limit=1000" + (after == null ? "" : "&after=" + after);
            HttpResponse<String> r = sim.get(pod, q);
            assertThat(r).as("GET %s on %s", q, pod.name).isNotNull();
            assertThat(r.statusCode()).as("GET %s on %s: %s", q, pod.name, r.body()).isEqualTo(200);
            JsonObject page = new JsonObject(r.body());
            JsonArray docs = page.getJsonArray("docs");
            for (Object o : docs) {
                JsonObject d = (JsonObject) o;
                out.put(d.getString("key"), d.getJsonObject("doc").getLong("seq"));
            }
            after = page.getString("next");
            if (after == null || docs.isEmpty()) return out;
        }
    }

    private static void progress(long t0, String what) {
        System.out.printf("[%5.1f s] %s%n", (System.nanoTime() - t0) / 1e9, what);
    }
}
