package io.cairn.sim;

import static org.assertj.core.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/**
 * Runs the simulator over many seeds: {@code -Dcairn.sim.seeds=N} (default 2000; the Maven profile
 * {@code sim-long} sets 50000), or exactly one with {@code -Dcairn.sim.seed=S} (add
 * {@code -Dcairn.sim.trace=true} to print its events). {@code -Dcairn.sim.keepGoing=true} runs every
 * seed and counts the failures instead of stopping at the first. {@code -Dcairn.sim.nodes} and
 * {@code -Dcairn.sim.chaosTicks} override the cluster size and the length of the fault phase.
 */
class SimulationTest {
    @Test
    void seeds() {
        String one = System.getProperty("cairn.sim.seed");
        boolean trace = Boolean.getBoolean("cairn.sim.trace");
        long first = one != null ? Long.parseLong(one) : 1;
        long count = one != null ? 1 : Long.getLong("cairn.sim.seeds", 2000);
        long start = System.nanoTime();
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long processCpuStart = os.getProcessCpuTime();
        long events = 0;
        long commits = 0;
        long snapshots = 0;
        long reads = 0;
        long leases = 0;
        long changes = 0;
        long healMax = 0;
        long healMaxSeed = 0;
        boolean keepGoing = Boolean.getBoolean("cairn.sim.keepGoing");
        long failures = 0;
        Simulator.Failure firstFailure = null;
        for (long seed = first; seed < first + count; seed++) {
            Simulator.Options o = Simulator.Options.forSeed(seed);
            Simulator.Result r;
            try {
                int nodes = Integer.getInteger("cairn.sim.nodes", o.nodes());
                int chaos = Integer.getInteger("cairn.sim.chaosTicks", o.chaosTicks());
                int heal = Integer.getInteger("cairn.sim.healTicks", o.healTicksMax());
                r = new Simulator(seed, new Simulator.Options(nodes, chaos, heal, trace)).run();
            } catch (Simulator.Failure f) {
                if (keepGoing) {
                    failures++;
                    if (firstFailure == null) firstFailure = f;
                    System.out.println("FAILED " + f.getMessage().lines().findFirst().orElse(""));
                    continue;
                }
                f.printStackTrace(System.out);
                fail(f.getMessage() + "\nreplay: mvn -B test -Dtest=SimulationTest -Dcairn.sim.seed=" + f.seed, f);
                return;
            }
            events += r.events();
            commits += r.commits();
            snapshots += r.snapshotsInstalled();
            reads += r.readsConfirmed();
            leases += r.leaseReads();
            changes += r.membershipChanges();
            if (r.healTicks() > healMax) {
                healMax = r.healTicks();
                healMaxSeed = seed;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpu = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        double processCpu = (os.getProcessCpuTime() - processCpuStart) / 1e9;
        System.out.printf("simulated %d seeds in %.1f s (CPU: %.1f s simulating, %.1f s in the JVM): %d events, %d commits, %d snapshots installed, "
                        + "%d reads confirmed, %d lease reads, %d membership changes, slowest recovery %d ticks (seed %d)%n",
                count, seconds, cpu, processCpu, events, commits, snapshots, reads, leases, changes, healMax, healMaxSeed);
        if (firstFailure != null) {
            System.out.printf("%d of %d seeds failed; the first was seed %d%n", failures, count, firstFailure.seed);
            fail(failures + " seeds failed, first " + firstFailure.getMessage(), firstFailure);
        }
    }
}
