package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;

/** The histogram against a sorted-array reference: nearest-rank percentiles within one bucket (< 0.1%). */
class LatencyHistogramTest {
    private static final double[] PERCENTILES = {0, 1, 50, 90, 99, 99.9, 99.99, 100};

    private static Arbitrary<Long> value() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(0, 3000),                        // the exact region and just above
                Arbitraries.longs().between(100_000, 50_000_000),            // 0.1 ms .. 50 ms in ns
                Arbitraries.longs().between(0, LatencyHistogram.DEFAULT_HIGHEST));
    }

    @Provide
    Arbitrary<List<Long>> shortValues() {
        return value().list().ofMinSize(1).ofMaxSize(200);
    }

    @Provide
    Arbitrary<List<Long>> values() {
        return value().list().ofMinSize(1).ofMaxSize(1500);
    }

    private static long reference(long[] sorted, double p) {
        return sorted[(int) LatencyHistogram.rank(p, sorted.length) - 1];
    }

    @Property(tries = 200)
    void percentilesAgreeWithSortedArray(@ForAll("values") List<Long> values,
                                         @ForAll @DoubleRange(min = 0, max = 100) double extra) {
        LatencyHistogram h = new LatencyHistogram();
        for (long v : values) h.record(v);
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();

        assertThat(h.count()).isEqualTo(sorted.length);
        assertThat(h.min()).isEqualTo(sorted[0]);
        assertThat(h.max()).isEqualTo(sorted[sorted.length - 1]);
        assertThat(h.mean()).isCloseTo(Arrays.stream(sorted).asDoubleStream().average().orElseThrow(),
                org.assertj.core.data.Offset.offset(Math.max(1e-6, h.mean() * 1e-9)));
        double[] ps = Arrays.copyOf(PERCENTILES, PERCENTILES.length + 1);
        ps[ps.length - 1] = extra;
        for (double p : ps) {
            long ref = reference(sorted, p);
            long got = h.valueAtPercentile(p);
            // same bucket as the true value, never below it, relative error under 2^-10
            assertThat(got).as("p%s of %d values", p, sorted.length).isGreaterThanOrEqualTo(ref);
            assertThat(got).as("p%s", p).isLessThanOrEqualTo(h.highestEquivalent(ref));
            assertThat(got - ref).as("p%s error", p).isLessThanOrEqualTo(ref >> 10);
        }
    }

    @Property(tries = 50)
    void mergingEqualsRecordingEverything(@ForAll("shortValues") List<Long> a, @ForAll("shortValues") List<Long> b) {
        LatencyHistogram ha = new LatencyHistogram();
        LatencyHistogram hb = new LatencyHistogram();
        LatencyHistogram both = new LatencyHistogram();
        a.forEach(v -> { ha.record(v); both.record(v); });
        b.forEach(v -> { hb.record(v); both.record(v); });
        ha.add(hb);
        assertThat(ha.count()).isEqualTo(both.count());
        assertThat(ha.min()).isEqualTo(both.min());
        assertThat(ha.max()).isEqualTo(both.max());
        for (double p : PERCENTILES) assertThat(ha.valueAtPercentile(p)).isEqualTo(both.valueAtPercentile(p));
    }

    private static final LatencyHistogram LAYOUT = new LatencyHistogram();

    @Property(tries = 2000)
    void bucketsTileTheRange(@ForAll @LongRange(min = 0, max = 1L << 40) long v) {
        LatencyHistogram h = LAYOUT;
        long lo = h.lowestEquivalent(v);
        long hi = h.highestEquivalent(v);
        assertThat(lo).isLessThanOrEqualTo(v);
        assertThat(hi).isGreaterThanOrEqualTo(v);
        assertThat(hi - lo).isLessThanOrEqualTo(Math.max(0, v >> 10));
        if (lo > 0) assertThat(h.indexOf(lo - 1)).isEqualTo(h.indexOf(v) - 1);
        if (hi < (1L << 40)) assertThat(h.indexOf(hi + 1)).isEqualTo(h.indexOf(v) + 1);
    }

    @Example
    void smallValuesAreExact() {
        LatencyHistogram h = new LatencyHistogram();
        List<Long> vs = new ArrayList<>();
        for (long v = 1; v <= 100; v++) {
            h.record(v);
            vs.add(v);
        }
        assertThat(h.valueAtPercentile(50)).isEqualTo(50);
        assertThat(h.valueAtPercentile(99)).isEqualTo(99);
        assertThat(h.valueAtPercentile(99.9)).isEqualTo(100);
        assertThat(h.valueAtPercentile(0)).isEqualTo(1);
    }

    @Example
    void emptyClampedAndInvalid() {
        LatencyHistogram h = new LatencyHistogram(8, 1 << 20);
        assertThat(h.valueAtPercentile(99)).isZero();
        assertThat(h.min()).isZero();
        h.record(-5);
        h.record(1L << 30);
        assertThat(h.clamped()).isEqualTo(1);
        assertThat(h.max()).isEqualTo(1 << 20);
        assertThat(h.valueAtPercentile(0)).isZero();
        assertThat(h.valueAtPercentile(100)).isEqualTo(1 << 20);
        assertThatThrownBy(() -> h.valueAtPercentile(101)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.add(new LatencyHistogram())).isInstanceOf(IllegalArgumentException.class);
        h.reset();
        assertThat(h.count()).isZero();
        assertThat(h.max()).isZero();
    }
}
