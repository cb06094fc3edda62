package io.cairn.fault;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {
    private static final List<String> IDS = List.of("n1", "n2", "n3", "n4", "n5");

    /** Records what the schedule does, as lines. */
    static final class Recording implements FaultSchedule.Target {
        final List<String> actions = Collections.synchronizedList(new ArrayList<>());
        String leader = "n2";

        @Override public List<String> ids() { return IDS; }
        @Override public String leader() { return leader; }
        @Override public void kill(String id) { actions.add("kill " + id); }
        @Override public void restart(String id) { actions.add("restart " + id); }
        @Override public void pause(String id) { actions.add("pause " + id); }
        @Override public void resume(String id) { actions.add("resume " + id); }
        @Override public void partition(Set<String> side) { actions.add("partition " + new TreeSet<>(side)); }
        @Override public void cutOneWay(String from, String to) { actions.add("cut " + from + "->" + to); }
        @Override public void delayAll(Duration delay) { actions.add("delay " + delay.toMillis()); }
        @Override public void heal() { actions.add("heal"); }
        @Override public void killDuringSnapshot(String id) { actions.add("snapshot-crash " + id); }
        @Override public void terminate(String id) { actions.add("terminate " + id); }
        @Override public void resetLinks() { actions.add("reset"); }
    }

    private static FaultSchedule small(long seed) {
        return FaultSchedule.generate(seed, IDS, Set.of(FaultSchedule.Kind.values()), Duration.ofMillis(400),
                Duration.ofMillis(10), Duration.ofMillis(30), Duration.ofMillis(5), Duration.ofMillis(10));
    }

    @Test
    void aSeedMakesTheSameScheduleAndAnotherSeedAnother() {
        FaultSchedule a = FaultSchedule.standard(99, IDS, Duration.ofMinutes(2));
        assertThat(FaultSchedule.standard(99, IDS, Duration.ofMinutes(2)).steps()).isEqualTo(a.steps());
        assertThat(FaultSchedule.standard(100, IDS, Duration.ofMinutes(2)).steps()).isNotEqualTo(a.steps());
        assertThat(a.toString()).startsWith("fault schedule seed=99:");
    }

    @Test
    void stepsDoNotOverlapAndFitTheDuration() {
        for (long seed = 0; seed < 50; seed++) {
            FaultSchedule s = FaultSchedule.standard(seed, IDS, Duration.ofMinutes(2));
            long end = 0;
            for (FaultSchedule.Step step : s.steps()) {
                assertThat(step.atMillis()).isGreaterThanOrEqualTo(end + 1_000);
                assertThat(step.forMillis()).isBetween(2_000L, 6_000L);
                end = step.atMillis() + step.forMillis();
                if (step.kind() == FaultSchedule.Kind.PARTITION) {
                    assertThat(step.nodes()).hasSizeBetween(2, 3); // a minority or a majority of 5
                }
                if (step.kind() == FaultSchedule.Kind.ONE_WAY) assertThat(step.nodes()).hasSize(2).doesNotHaveDuplicates();
            }
            assertThat(end).isLessThanOrEqualTo(120_000);
            assertThat(s.steps()).isNotEmpty();
        }
    }

    @Test
    void everyKindComesOnceBeforeAnyComesTwice() {
        int kinds = FaultSchedule.Kind.values().length;
        for (long seed = 0; seed < 20; seed++) {
            List<FaultSchedule.Step> steps = FaultSchedule.standard(seed, IDS, Duration.ofMinutes(10)).steps();
            assertThat(steps.size()).isGreaterThan(kinds);
            assertThat(steps.subList(0, kinds).stream().map(FaultSchedule.Step::kind).distinct().count()).isEqualTo(kinds);
        }
    }

    @Test
    void runningUndoesEveryFaultBeforeTheNextAndEndsHealed() {
        FaultSchedule s = small(7);
        Recording target = new Recording();
        List<String> log = new ArrayList<>();
        long start = System.nanoTime();
        s.run(target, log::add);
        long last = s.steps().get(s.steps().size() - 1).atMillis() + s.steps().get(s.steps().size() - 1).forMillis();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(last));

        List<String> a = target.actions;
        assertThat(a.get(a.size() - 1)).isEqualTo("heal");
        for (int i = 0; i < a.size() - 1; i += 2) {
            String fault = a.get(i);
            String undo = a.get(i + 1);
            if (fault.startsWith("kill ")) assertThat(undo).isEqualTo("restart " + fault.substring(5));
            else if (fault.startsWith("snapshot-crash ")) assertThat(undo).isEqualTo("restart " + fault.substring(15));
            else if (fault.startsWith("terminate ")) assertThat(undo).isEqualTo("restart " + fault.substring(10));
            else if (fault.equals("reset")) {
                assertThat(undo).isEqualTo("reset");
                assertThat(a.get(i + 2)).isEqualTo("heal");
                i++;
                continue;
            }
            else if (fault.startsWith("pause ")) assertThat(undo).isEqualTo("resume " + fault.substring(6));
            else assertThat(undo).isEqualTo("heal");
        }
        long resets = s.steps().stream().filter(st -> st.kind() == FaultSchedule.Kind.RESET_LINKS).count();
        assertThat(a.size()).isEqualTo(2 * s.steps().size() + 1 + (int) resets);
        assertThat(log.get(0)).isEqualTo(s.toString());
    }

    @Test
    void leaderFaultsHitTheLeaderOfTheMoment() {
        FaultSchedule s = FaultSchedule.generate(3, IDS, Set.of(FaultSchedule.Kind.KILL_RESTART_LEADER), Duration.ofMillis(60),
                Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(1), Duration.ofMillis(2));
        Recording target = new Recording();
        target.leader = "n4";
        s.run(target, line -> { });
        assertThat(target.actions).startsWith("kill n4", "restart n4");
    }
}
