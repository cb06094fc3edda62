package io.cairn.k8s;

import static io.cairn.k8s.Manifests.at;
import static io.cairn.k8s.Manifests.list;
import static io.cairn.k8s.Manifests.map;
import static io.cairn.k8s.Manifests.strings;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.Await;
import io.cairn.Cairn;
import io.cairn.config.CairnConfig;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/** k8s/ parses, and what it says agrees with the code: settings, ports, paths, probes, image. */
class K8sManifestsTest {
    private static final Set<String> DERIVED_ON_K8S = Set.of("nodeId", "advertiseHost", "peers", "join");

    private final Manifests k8s = Manifests.load();

    @TempDir Path tmp;

    /** The config a pod gets: its environment, the ConfigMap as --conf, no conf/ in its working directory. */
    private CairnConfig podConfig(String pod) {
        Map<String, String> env = Manifests.podEnv(k8s.container(), pod, "prod");
        Map<String, String> settings = ConfigLoader.settings(tmp, confFile(), env);
        return ConfigLoader.build(K8sPod.fromSettings(settings).orElseThrow().settings(settings));
    }

    /** The file the container reads with --conf, as the ConfigMap generator makes it. */
    private Path confFile() {
        List<String> args = k8s.args();
        assertThat(args).as("container args").containsExactly("--conf", args.get(1));
        Path mounted = Path.of(args.get(1));
        Map<String, Object> gen = map(list(k8s.kustomization().get("configMapGenerator")).get(0));
        List<String> files = strings(gen.get("files"));
        assertThat(files).containsExactly(mounted.getFileName().toString());
        assertThat(k8s.mountPath(k8s.container(), "config")).isEqualTo(mounted.getParent().toString());
        assertThat(volume("config").get("configMap")).isEqualTo(Map.of("name", gen.get("name")));
        return k8s.dir().resolve(files.get(0));
    }

    private Map<String, Object> volume(String name) {
        return list(k8s.podSpec().get("volumes")).stream().map(Manifests::map).filter(v -> name.equals(v.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private Map<String, String> containerEnv() {
        return Manifests.podEnv(k8s.container(), "cairn-0", "prod");
    }

    @Test
    void kustomizationListsEveryFileAndEveryListedFileExists() throws Exception {
        Set<String> yamls;
        try (Stream<Path> files = Files.list(k8s.dir())) {
            yamls = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(new TreeSet<>(strings(k8s.kustomization().get("resources")))).isEqualTo(yamls);
        Set<String> data;
        try (Stream<Path> files = Files.list(k8s.dir())) {
            data = files.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(n -> !n.endsWith(".yaml") && !n.endsWith(".md")).collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> generated = new TreeSet<>();
        for (Object g : list(k8s.kustomization().get("configMapGenerator"))) generated.addAll(strings(map(g).get("files")));
        assertThat(generated).as("every data file in k8s/ feeds a ConfigMap").isEqualTo(data);
        // the restore overlay: its base and patches exist, and every document parses
        Path overlay = k8s.dir().resolve("restore");
        Map<String, Object> ko = Manifests.loadAll(overlay.resolve("kustomization.yaml")).get(0);
        assertThat(strings(ko.get("resources"))).containsExactly("../");
        for (Object p : list(ko.get("patches"))) assertThat(Manifests.loadAll(overlay.resolve((String) map(p).get("path")))).isNotEmpty();
        // every document is a Kubernetes object with a name
        for (Map<String, Object> d : k8s.docs()) {
            assertThat(d).containsKeys("apiVersion", "kind");
            assertThat(at(d, "metadata", "name")).as("name of a %s", d.get("kind")).isNotNull();
        }
    }

    @Test
    void everyEnvironmentVariableIsASettingAndNoneSetsWhatThePodDerives() {
        Set<String> known = ConfigLoader.SETTINGS.stream().map(ConfigLoader.Setting::env).collect(Collectors.toSet());
        Set<String> derived = ConfigLoader.SETTINGS.stream().filter(s -> DERIVED_ON_K8S.contains(s.json()))
                .map(ConfigLoader.Setting::env).collect(Collectors.toSet());
        assertThat(known).containsAll(containerEnv().keySet());
        assertThat(containerEnv().keySet()).doesNotContainAnyElementsOf(derived);
        assertThat(containerEnv()).containsEntry("CAIRN_K8S_POD_NAME", "cairn-0").containsEntry("CAIRN_K8S_NAMESPACE", "prod");
    }

    @Test
    void theConfigMapHasTheSettingsOfConfButThoseThePodDerives() throws Exception {
        JsonObject conf = new JsonObject(Files.readString(Path.of("conf", "cairn.json"), StandardCharsets.UTF_8));
        JsonObject onK8s = new JsonObject(Files.readString(confFile(), StandardCharsets.UTF_8));
        Set<String> expected = new TreeSet<>(conf.fieldNames());
        expected.removeAll(DERIVED_ON_K8S);
        assertThat(new TreeSet<>(onK8s.fieldNames())).isEqualTo(expected);
    }

    @Test
    void theStatefulSetAgreesWithTheServicesThePdbAndItsOwnSettings() {
        Map<String, Object> sts = k8s.statefulSet();
        Map<String, String> env = containerEnv();
        Map<String, Object> podLabels = map(at(sts, "spec", "template", "metadata", "labels"));
        assertThat(map(at(sts, "spec", "selector", "matchLabels"))).isEqualTo(podLabels);
        assertThat(at(sts, "spec", "podManagementPolicy")).isEqualTo("Parallel");
        assertThat(env.get("CAIRN_K8S_STATEFULSET")).isEqualTo(at(sts, "metadata", "name"));
        assertThat(env.get("CAIRN_K8S_INITIAL_REPLICAS")).isEqualTo(String.valueOf(at(sts, "spec", "replicas")));

        Map<String, Object> peers = k8s.get("Service", env.get("CAIRN_K8S_SERVICE"));
        assertThat(at(sts, "spec", "serviceName")).isEqualTo(env.get("CAIRN_K8S_SERVICE"));
        assertThat(at(peers, "spec", "clusterIP")).isEqualTo("None");
        assertThat(at(peers, "spec", "publishNotReadyAddresses")).isEqualTo(true);
        assertThat(map(at(peers, "spec", "selector"))).isEqualTo(podLabels);
        assertThat(servicePorts(peers)).isEqualTo(Map.of("http", 8080, "raft", 7000));

        List<Map<String, Object>> clients = k8s.all("Service").stream().filter(s -> s != peers).toList();
        assertThat(clients).hasSize(1);
        Map<String, Object> client = clients.get(0);
        assertThat(at(client, "spec", "clusterIP")).isNull();
        assertThat(at(client, "spec", "publishNotReadyAddresses")).as("clients reach ready pods only").isNotEqualTo(true);
        assertThat(map(at(client, "spec", "selector"))).isEqualTo(podLabels);
        assertThat(servicePorts(client)).isEqualTo(Map.of("http", 8080));

        Map<String, Object> pdb = k8s.all("PodDisruptionBudget").get(0);
        assertThat(map(at(pdb, "spec", "selector", "matchLabels"))).isEqualTo(podLabels);
        int replicas = ((Number) at(sts, "spec", "replicas")).intValue();
        int maxUnavailable = ((Number) at(pdb, "spec", "maxUnavailable")).intValue();
        assertThat(replicas - maxUnavailable).as("a PDB that keeps a quorum").isGreaterThanOrEqualTo(replicas / 2 + 1);
        assertThat(maxUnavailable).isEqualTo(1);
    }

    /** Service port name → the container port its targetPort names, checking port = container port. */
    private Map<String, Integer> servicePorts(Map<String, Object> service) {
        Map<String, Integer> out = new HashMap<>();
        for (Object o : list(at(service, "spec", "ports"))) {
            Map<String, Object> p = map(o);
            int target = k8s.containerPort((String) p.get("targetPort"));
            assertThat(((Number) p.get("port")).intValue()).isEqualTo(target);
            out.put((String) p.get("name"), target);
        }
        return out;
    }

    @Test
    void portsDataPathAndIdentityOfEachPodAgreeWithWhatTheNodeReads() {
        for (int i = 0; i < 5; i++) {
            CairnConfig c = podConfig("cairn-" + i);
            assertThat(c.nodeId()).isEqualTo("cairn-" + i);
            assertThat(c.advertiseHost()).isEqualTo("cairn-" + i + ".cairn-peers.prod.svc.cluster.local");
            assertThat(c.httpPort()).isEqualTo(k8s.containerPort("http")).isEqualTo(8080);
            assertThat(c.raftPort()).isEqualTo(k8s.containerPort("raft")).isEqualTo(7000);
            assertThat(c.httpHost()).isEqualTo("0.0.0.0");
            assertThat(c.raftHost()).isEqualTo("0.0.0.0");
            assertThat(c.dataDir()).isEqualTo(Path.of(k8s.mountPath(k8s.container(), "data")));
            List<Object> claims = list(at(k8s.statefulSet(), "spec", "volumeClaimTemplates"));
            assertThat(at(claims.get(0), "metadata", "name")).isEqualTo("data");
            if (i < 3) {
                assertThat(c.peers()).extracting(CairnConfig.PeerSpec::id).containsExactly("cairn-0", "cairn-1", "cairn-2");
                assertThat(c.peers().get(1).raftAddress()).isEqualTo("cairn-1.cairn-peers.prod.svc.cluster.local:7000");
                assertThat(c.join()).isEmpty();
            } else {
                assertThat(c.peers()).isEmpty();
                assertThat(c.join()).contains("cairn-0.cairn-peers.prod.svc.cluster.local:8080").hasSize(i);
            }
        }
    }

    @Test
    void probesAndTheScrapeAnnotationsNameWhatANodeServes() throws Exception {
        Map<String, Object> c = k8s.container();
        Map<String, String> paths = new LinkedHashMap<>();
        for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
            assertThat(at(c, probe, "httpGet", "port")).as(probe).isEqualTo("http");
            paths.put(probe, (String) at(c, probe, "httpGet", "path"));
        }
        assertThat(paths).containsEntry("readinessProbe", "/health/ready").containsEntry("livenessProbe", "/health/live")
                .containsEntry("startupProbe", "/health/live");
        Map<String, Object> ann = map(at(k8s.statefulSet(), "spec", "template", "metadata", "annotations"));
        assertThat(ann).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", String.valueOf(k8s.containerPort("http")));

        // a real node answers 200 on every one of those paths (one node: it leads, so it is ready)
        Vertx vertx = Vertx.vertx();
        try {
            CairnConfig config = ConfigLoader.load(tmp, null, Map.of("CAIRN_DATA_DIR", tmp.resolve("data").toString(),
                    "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1",
                    "CAIRN_RAFT_PORT", "0", "CAIRN_API_INSTANCES", "1", "CAIRN_TICK_MS", "20"));
            Cairn cairn = Cairn.start(vertx, config).await(60, TimeUnit.SECONDS);
            try {
                Await.until("leadership", () -> cairn.node().state().isLeader());
                WebClient http = WebClient.create(vertx);
                List<String> served = new ArrayList<>(paths.values());
                served.add((String) ann.get("prometheus.io/path"));
                for (String path : served) {
                    int status = http.request(HttpMethod.GET, cairn.httpPort(), "127.0.0.1", path).send()
                            .await(30, TimeUnit.SECONDS).statusCode();
                    assertThat(status).as("GET %s", path).isEqualTo(200);
                }
            } finally {
                cairn.stop().await(30, TimeUnit.SECONDS);
            }
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void podRunsNonRootOnAReadOnlyRootWithWritableDataAndTmpAndHasTimeToLeave() {
        Map<String, Object> pod = k8s.podSpec();
        Map<String, Object> c = k8s.container();
        assertThat(at(pod, "securityContext", "runAsNonRoot")).isEqualTo(true);
        assertThat(at(pod, "securityContext", "fsGroup")).as("the volume is writable by the user").isNotNull();
        assertThat(at(c, "securityContext", "readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(at(c, "securityContext", "allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(k8s.mountPath(c, "tmp")).isEqualTo("/tmp");
        assertThat(volume("tmp")).containsKey("emptyDir");
        assertThat(map(at(c, "resources", "requests"))).containsKeys("cpu", "memory");
        assertThat(map(at(c, "resources", "limits"))).containsKeys("memory");
        assertThat(pod.get("serviceAccountName")).isEqualTo(at(k8s.all("ServiceAccount").get(0), "metadata", "name"));

        // leaving (bounded by its timeout), handing off (bounded by the write timeout), then draining
        // and closing (Main allows 20 s for the whole stop, then 5 s to close Vert.x)
        Map<String, String> settings = ConfigLoader.settings(tmp, confFile(), containerEnv());
        long leaveMillis = Long.parseLong(settings.get("k8sLeaveTimeoutMillis"));
        long writeMillis = Long.parseLong(settings.get("writeTimeoutMillis"));
        assertThat(leaveMillis + writeMillis).as("leave + hand-off fit Main's 20 s stop").isLessThanOrEqualTo(20_000);
        int grace = ((Number) pod.get("terminationGracePeriodSeconds")).intValue();
        List<String> preStop = strings(at(c, "lifecycle", "preStop", "exec", "command"));
        assertThat(preStop).hasSize(2).startsWith("sleep");
        assertThat(grace).as("terminationGracePeriodSeconds covers preStop, Main's stop (20 s) and close (5 s)")
                .isGreaterThanOrEqualTo(Integer.parseInt(preStop.get(1)) + 25 + 5);
    }

    @Test
    void theRoleLetsThePodsReadTheirStatefulSetAndNothingElse() {
        String sts = (String) at(k8s.statefulSet(), "metadata", "name");
        Map<String, Object> role = k8s.all("Role").get(0);
        List<Object> rules = list(role.get("rules"));
        assertThat(rules).hasSize(1);
        assertThat(strings(at(rules.get(0), "resources"))).containsExactly("statefulsets");
        assertThat(strings(at(rules.get(0), "resourceNames"))).containsExactly(sts);
        assertThat(strings(at(rules.get(0), "verbs"))).containsExactly("get");
        Map<String, Object> binding = k8s.all("RoleBinding").get(0);
        assertThat(at(binding, "roleRef", "name")).isEqualTo(at(role, "metadata", "name"));
        assertThat(at(list(binding.get("subjects")).get(0), "name")).isEqualTo(k8s.podSpec().get("serviceAccountName"));
    }

    @Test
    void theRestoreInitContainerGetsThePodsEnvironmentAndMounts() {
        Map<String, Object> patch = Manifests.loadAll(k8s.dir().resolve("restore").resolve("restore-init.yaml")).get(0);
        Map<String, Object> init = map(list(at(patch, "spec", "template", "spec", "initContainers")).get(0));
        assertThat(Manifests.podEnv(init, "cairn-0", "prod")).isEqualTo(containerEnv());
        for (String v : List.of("data", "config", "tmp")) assertThat(k8s.mountPath(init, v)).isEqualTo(k8s.mountPath(k8s.container(), v));
        assertThat(String.join(" ", strings(init.get("command")))).contains(k8s.mountPath(k8s.container(), "data") + "/restore.db")
                .contains(k8s.args().get(1)).contains("io.cairn.Main restore");
        assertThat(init.get("image")).isEqualTo(k8s.container().get("image"));
    }

    @Test
    void theImageInThePomMatchesTheManifests() throws Exception {
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        Element jib = null;
        var plugins = doc.getElementsByTagName("plugin");
        for (int i = 0; i < plugins.getLength(); i++) {
            Element p = (Element) plugins.item(i);
            if (text(p, "artifactId").equals("jib-maven-plugin")) jib = p;
        }
        assertThat(jib).as("jib-maven-plugin in pom.xml").isNotNull();
        assertThat(jib.getElementsByTagName("executions").getLength()).as("Jib is bound to no phase").isZero();
        Element from = (Element) jib.getElementsByTagName("from").item(0);
        assertThat(text(from, "image")).isEqualTo("eclipse-temurin:17-jre");
        Element container = (Element) jib.getElementsByTagName("container").item(0);
        assertThat(text(container, "mainClass")).isEqualTo("io.cairn.Main");
        String uid = text(container, "user").split(":")[0];
        assertThat(uid).isEqualTo(String.valueOf(at(k8s.podSpec(), "securityContext", "runAsUser")));
        List<String> ports = children(container, "port");
        assertThat(ports).containsExactlyInAnyOrder(String.valueOf(k8s.containerPort("http")), String.valueOf(k8s.containerPort("raft")));
        assertThat(children(container, "volume")).containsExactly(k8s.mountPath(k8s.container(), "data"));
        assertThat(text(container, "CAIRN_DATA_DIR")).isEqualTo(k8s.mountPath(k8s.container(), "data"));
        assertThat(String.valueOf(at(k8s.container(), "image"))).isEqualTo("cairn");
        Map<String, Object> image = map(list(k8s.kustomization().get("images")).get(0));
        assertThat(image.get("name")).isEqualTo("cairn");
    }

    private static String text(Element e, String tag) {
        var nodes = e.getElementsByTagName(tag);
        return nodes.getLength() == 0 ? "" : nodes.item(0).getTextContent().trim();
    }

    private static List<String> children(Element e, String tag) {
        List<String> out = new ArrayList<>();
        var nodes = e.getElementsByTagName(tag);
        for (int i = 0; i < nodes.getLength(); i++) out.add(nodes.item(i).getTextContent().trim());
        return out;
    }
}
