package io.cairn.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The manifests of {@code k8s/} as parsed YAML (every document of every file the kustomization
 * lists), with the few navigations the tests need: the StatefulSet, its container, the environment
 * a pod receives (downward-API values substituted), volumes and mounts.
 */
final class Manifests {
    static final Path DIR = Path.of("k8s");

    private final Path dir;
    private final Map<String, Object> kustomization;
    /** Every document of every listed resource file, in order. */
    private final List<Map<String, Object>> docs = new ArrayList<>();

    private Manifests(Path dir) {
        this.dir = dir;
        this.kustomization = map(loadAll(dir.resolve("kustomization.yaml")).get(0));
        for (String file : strings(kustomization.get("resources"))) docs.addAll(loadAll(dir.resolve(file)));
    }

    static Manifests load() {
        return new Manifests(DIR);
    }

    Path dir() {
        return dir;
    }

    Map<String, Object> kustomization() {
        return kustomization;
    }

    List<Map<String, Object>> docs() {
        return docs;
    }

    /** The one document of {@code kind} named {@code name}. */
    Map<String, Object> get(String kind, String name) {
        return docs.stream().filter(d -> kind.equals(d.get("kind")) && name.equals(at(d, "metadata", "name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in " + dir));
    }

    /** Every document of {@code kind}. */
    List<Map<String, Object>> all(String kind) {
        return docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    }

    Map<String, Object> statefulSet() {
        List<Map<String, Object>> s = all("StatefulSet");
        if (s.size() != 1) throw new AssertionError("expected one StatefulSet, found " + s.size());
        return s.get(0);
    }

    Map<String, Object> podSpec() {
        return map(at(statefulSet(), "spec", "template", "spec"));
    }

    Map<String, Object> container() {
        return map(list(podSpec().get("containers")).get(0));
    }

    /** The container's port number by port name. */
    int containerPort(String name) {
        for (Object o : list(container().get("ports"))) {
            Map<String, Object> p = map(o);
            if (name.equals(p.get("name"))) return ((Number) p.get("containerPort")).intValue();
        }
        throw new AssertionError("no container port named " + name);
    }

    /** The container's mount path of volume {@code name}. */
    String mountPath(Map<String, Object> container, String volume) {
        for (Object o : list(container.get("volumeMounts"))) {
            Map<String, Object> m = map(o);
            if (volume.equals(m.get("name"))) return (String) m.get("mountPath");
        }
        throw new AssertionError("no mount of volume " + volume);
    }

    /**
     * The environment a pod named {@code pod} in {@code namespace} receives from {@code container}:
     * plain values and the downward-API fields metadata.name and metadata.namespace. Any other
     * source fails: the simulation must give exactly what Kubernetes would.
     */
    static Map<String, String> podEnv(Map<String, Object> container, String pod, String namespace) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Object o : list(container.get("env"))) {
            Map<String, Object> e = map(o);
            String name = (String) e.get("name");
            if (e.containsKey("value")) {
                env.put(name, String.valueOf(e.get("value")));
                continue;
            }
            String field = (String) at(e, "valueFrom", "fieldRef", "fieldPath");
            if ("metadata.name".equals(field)) env.put(name, pod);
            else if ("metadata.namespace".equals(field)) env.put(name, namespace);
            else throw new AssertionError("env " + name + " has a source the simulation does not provide: " + e);
        }
        return env;
    }

    /** The container's args (e.g. {@code --conf /etc/cairn/cairn.json}). */
    List<String> args() {
        return strings(container().get("args"));
    }

    // ---- YAML plumbing

    static List<Map<String, Object>> loadAll(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object d : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(text)) {
            if (d != null) out.add(map(d));
        }
        return out;
    }

    /** {@code node[k1][k2]...}, or null where a key is missing. */
    static Object at(Object node, String... path) {
        Object cur = node;
        for (String k : path) {
            if (!(cur instanceof Map<?, ?> m)) return null;
            cur = m.get(k);
        }
        return cur;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (!(o instanceof Map)) throw new AssertionError("expected a mapping, got " + o);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        if (o == null) return List.of();
        if (!(o instanceof List)) throw new AssertionError("expected a list, got " + o);
        return (List<Object>) o;
    }

    static List<String> strings(Object o) {
        return list(o).stream().map(x -> Objects.toString(x)).toList();
    }
}
