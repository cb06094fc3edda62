package io.cairn.fault;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A seeded schedule of faults: a plain list of timed steps, made from a seed alone, printed before
 * it runs, so a seed replays the same faults at the same offsets. Every fault is undone before the
 * next one starts (one fault at a time, then a quiet gap), and the schedule ends healed.
 *
 * <p>Faults aimed at "the leader" are resolved when they run (the leader is the cluster's
 * choice), so those steps replay the same intent, not necessarily the same node.
 */
public final class FaultSchedule {
    /** What the schedule acts on: {@link ProcessCluster} does all of it. */
    public interface Target {
        List<String> ids();

        /** The current leader's id, or null if none is known. */
        String leader();

        void kill(String id);

        void restart(String id);

        void pause(String id);

        void resume(String id);

        void partition(Set<String> side);

        void cutOneWay(String from, String to);

        void delayAll(Duration delay);

        void heal();

        /** {@code kill -9} while the node takes a snapshot (or right after it, if it was too quick to catch). */
        void killDuringSnapshot(String id);

        /** SIGTERM: a graceful stop (a leader hands leadership off first); returns once the process exited. */
        void terminate(String id);

        /** Drops every connection on every peer link now (what is in flight is lost); new ones pass. */
        void resetLinks();
    }

    public enum Kind {
        KILL_RESTART, KILL_RESTART_LEADER, PAUSE, PAUSE_LEADER, ISOLATE, ISOLATE_LEADER, PARTITION, ONE_WAY, DELAY,
        /** kill -9 of a node in the middle of a snapshot (the leader's or a random node's), restarted after the fault. */
        SNAPSHOT_CRASH, SNAPSHOT_CRASH_LEADER,
        /** SIGTERM of the leader (graceful stop), restarted after the fault. */
        TERMINATE_LEADER,
        /** Every peer connection dropped at once (in-flight messages lost), and again when the fault ends. */
        RESET_LINKS
    }

    /** A fault and how long it lasts; {@code nodes} is empty when the target is the leader. */
    public record Step(long atMillis, Kind kind, List<String> nodes, long forMillis) {
        @Override
        public String toString() {
            return "+" + atMillis + "ms " + kind + (nodes.isEmpty() ? "" : " " + nodes) + " for " + forMillis + "ms";
        }
    }

    private final long seed;
    private final List<Step> steps;

    private FaultSchedule(long seed, List<Step> steps) {
        this.seed = seed;
        this.steps = List.copyOf(steps);
    }

    /**
     * Faults of the given kinds over {@code total}: each lasts {@code faultMin..faultMax}, then a
     * quiet gap of {@code quietMin..quietMax}.
     */
    public static FaultSchedule generate(long seed, List<String> ids, Set<Kind> kinds, Duration total,
                                         Duration faultMin, Duration faultMax, Duration quietMin, Duration quietMax) {
        if (kinds.isEmpty()) throw new IllegalArgumentException("no fault kinds");
        Random random = new Random(seed);
        List<Kind> all = new ArrayList<>(new TreeSet<>(kinds));
        List<Kind> bag = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        long at = between(random, quietMin, quietMax);
        while (true) {
            long length = between(random, faultMin, faultMax);
            if (at + length > total.toMillis()) break;
            // drawn from a shuffled bag of every kind, refilled when empty: a short schedule covers many kinds
            if (bag.isEmpty()) {
                bag.addAll(all);
                java.util.Collections.shuffle(bag, random);
            }
            Kind kind = bag.remove(bag.size() - 1);
            steps.add(new Step(at, kind, nodesFor(kind, ids, random), length));
            at += length + between(random, quietMin, quietMax);
        }
        return new FaultSchedule(seed, steps);
    }

    /** A schedule for a default fault test: every kind, 2–6 s faults, 1–3 s quiet. */
    public static FaultSchedule standard(long seed, List<String> ids, Duration total) {
        return generate(seed, ids, Set.of(Kind.values()), total, Duration.ofSeconds(2), Duration.ofSeconds(6),
                Duration.ofSeconds(1), Duration.ofSeconds(3));
    }

    private static long between(Random random, Duration min, Duration max) {
        long lo = min.toMillis();
        long hi = max.toMillis();
        return hi <= lo ? lo : lo + (long) (random.nextDouble() * (hi - lo));
    }

    private static List<String> nodesFor(Kind kind, List<String> ids, Random random) {
        List<String> shuffled = new ArrayList<>(ids);
        java.util.Collections.shuffle(shuffled, random);
        return switch (kind) {
            case KILL_RESTART, PAUSE, ISOLATE, SNAPSHOT_CRASH -> List.of(shuffled.get(0));
            case ONE_WAY -> List.of(shuffled.get(0), shuffled.get(1));
            case PARTITION -> List.copyOf(new TreeSet<>(shuffled.subList(0, (ids.size() - 1) / 2 + random.nextInt(Math.max(1, ids.size() / 2)))));
            default -> List.of();
        };
    }

    public long seed() {
        return seed;
    }

    public List<Step> steps() {
        return steps;
    }

    @Override
    public String toString() {
        return "fault schedule seed=" + seed + ":\n" + steps.stream().map(s -> "  " + s).collect(Collectors.joining("\n"));
    }

    /**
     * Runs the schedule on the calling thread (not an event loop: the target blocks), from now;
     * {@code log} gets one line per action. Returns when the last fault is undone, with how many
     * faults of each kind were applied (leader-aimed ones are skipped when no leader is known).
     */
    public java.util.Map<Kind, Integer> run(Target target, Consumer<String> log) {
        log.accept(toString());
        java.util.Map<Kind, Integer> applied = new java.util.EnumMap<>(Kind.class);
        long start = System.nanoTime();
        for (Step step : steps) {
            sleepUntil(start, step.atMillis());
            String undo = apply(target, step, log);
            if (!undo.isEmpty() || !leaderAimed(step.kind())) applied.merge(step.kind(), 1, Integer::sum);
            sleepUntil(start, step.atMillis() + step.forMillis());
            log.accept(String.format("+%dms undo: %s", elapsed(start), undo));
            undo(target, step, undo);
        }
        target.heal();
        return applied;
    }

    private static boolean leaderAimed(Kind kind) {
        return switch (kind) {
            case KILL_RESTART_LEADER, PAUSE_LEADER, ISOLATE_LEADER, SNAPSHOT_CRASH_LEADER, TERMINATE_LEADER -> true;
            default -> false;
        };
    }

    private static long elapsed(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static void sleepUntil(long start, long offsetMillis) {
        long deadline = start + offsetMillis * 1_000_000;
        for (long wait; (wait = deadline - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) throw new IllegalStateException("fault schedule interrupted");
        }
    }

    /** Applies a step; answers the node it hit (resolved for leader steps), or "" for none. */
    private static String apply(Target target, Step step, Consumer<String> log) {
        String node = step.nodes().isEmpty() ? null : step.nodes().get(0);
        switch (step.kind()) {
            case KILL_RESTART_LEADER, PAUSE_LEADER, ISOLATE_LEADER, SNAPSHOT_CRASH_LEADER, TERMINATE_LEADER -> {
                node = target.leader();
                if (node == null) {
                    log.accept("  no leader known: " + step + " skipped");
                    return "";
                }
            }
            default -> { }
        }
        log.accept(String.format("%s -> %s", step, node == null ? "" : node));
        switch (step.kind()) {
            case KILL_RESTART, KILL_RESTART_LEADER -> target.kill(node);
            case PAUSE, PAUSE_LEADER -> target.pause(node);
            case ISOLATE, ISOLATE_LEADER -> target.partition(Set.of(node));
            case PARTITION -> target.partition(Set.copyOf(step.nodes()));
            case ONE_WAY -> target.cutOneWay(step.nodes().get(0), step.nodes().get(1));
            case DELAY -> target.delayAll(Duration.ofMillis(20 + (step.forMillis() % 80)));
            case SNAPSHOT_CRASH, SNAPSHOT_CRASH_LEADER -> target.killDuringSnapshot(node);
            case TERMINATE_LEADER -> target.terminate(node);
            case RESET_LINKS -> target.resetLinks();
        }
        return node == null ? "" : node;
    }

    private static void undo(Target target, Step step, String node) {
        switch (step.kind()) {
            case KILL_RESTART, KILL_RESTART_LEADER, SNAPSHOT_CRASH, SNAPSHOT_CRASH_LEADER, TERMINATE_LEADER -> {
                if (!node.isEmpty()) target.restart(node);
            }
            case PAUSE, PAUSE_LEADER -> {
                if (!node.isEmpty()) target.resume(node);
            }
            case RESET_LINKS -> {
                target.resetLinks();
                target.heal();
            }
            default -> target.heal();
        }
    }
}
