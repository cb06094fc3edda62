package io.cairn.bench;

/**
 * A log-bucketed histogram of non-negative {@code long} values (nanoseconds here), in the manner of
 * HdrHistogram: values below {@code 2^subBucketBits} are counted exactly; above, each power-of-two
 * range is split into {@code 2^(subBucketBits-1)} equal sub-buckets, so a recorded value is known to
 * within a relative error of {@code 2^-(subBucketBits-1)} (0.1% with the default 11 bits).
 *
 * <p>Values above {@link #highestTrackable()} are counted at that value and reported by
 * {@link #clamped()}. Not thread-safe: one owner records, then {@link #add} merges.
 */
public final class LatencyHistogram {
    /** Default sub-bucket bits: 1024 sub-buckets per power of two, relative error below 0.1%. */
    public static final int DEFAULT_SUB_BUCKET_BITS = 11;
    /** Default highest trackable value: 2^40 ns, about 18 minutes. */
    public static final long DEFAULT_HIGHEST = 1L << 40;

    private final int subBucketBits;
    private final long subBucketHalf;
    private final long highest;
    private final long[] counts;
    private long total;
    private long min = Long.MAX_VALUE;
    private long max;
    private long clamped;
    private double sum;

    public LatencyHistogram() {
        this(DEFAULT_SUB_BUCKET_BITS, DEFAULT_HIGHEST);
    }

    public LatencyHistogram(int subBucketBits, long highestTrackable) {
        if (subBucketBits < 2 || subBucketBits > 20) throw new IllegalArgumentException("subBucketBits must be 2..20");
        if (highestTrackable < (1L << subBucketBits) || highestTrackable > (1L << 62)) {
            throw new IllegalArgumentException("highestTrackable must be 2^subBucketBits..2^62");
        }
        this.subBucketBits = subBucketBits;
        this.subBucketHalf = 1L << (subBucketBits - 1);
        this.highest = highestTrackable;
        this.counts = new long[indexOf(highestTrackable) + 1];
    }

    /** The bucket index of a value: exact below 2^subBucketBits, then sub-buckets per power of two. */
    int indexOf(long value) {
        if (value < (subBucketHalf << 1)) return (int) value;
        int msb = 63 - Long.numberOfLeadingZeros(value);
        int bucket = msb - (subBucketBits - 1); // >= 1
        long sub = value >>> bucket;             // in [half, 2*half)
        return (int) (bucket * subBucketHalf + sub);
    }

    /** The smallest value that lands in the same bucket as {@code value}. */
    public long lowestEquivalent(long value) {
        return lowestOfIndex(indexOf(value));
    }

    /** The largest value that lands in the same bucket as {@code value}. */
    public long highestEquivalent(long value) {
        return highestOfIndex(indexOf(value));
    }

    private long lowestOfIndex(int index) {
        if (index < (subBucketHalf << 1)) return index;
        long bucket = index / subBucketHalf - 1;
        long sub = index - bucket * subBucketHalf;
        return sub << bucket;
    }

    private long highestOfIndex(int index) {
        if (index < (subBucketHalf << 1)) return index;
        long bucket = index / subBucketHalf - 1;
        long sub = index - bucket * subBucketHalf;
        return ((sub + 1) << bucket) - 1;
    }

    /** Records one value; negative values count as 0, values above the highest trackable are clamped. */
    public void record(long value) {
        long v = Math.max(0, value);
        if (v > highest) {
            v = highest;
            clamped++;
        }
        counts[indexOf(v)]++;
        total++;
        sum += v;
        if (v < min) min = v;
        if (v > max) max = v;
    }

    /** Adds every count of {@code other} (which must have the same layout) to this histogram. */
    public void add(LatencyHistogram other) {
        if (other.subBucketBits != subBucketBits || other.highest != highest) {
            throw new IllegalArgumentException("histograms differ in layout");
        }
        for (int i = 0; i < counts.length; i++) counts[i] += other.counts[i];
        total += other.total;
        sum += other.sum;
        clamped += other.clamped;
        if (other.total > 0) {
            min = Math.min(min, other.min);
            max = Math.max(max, other.max);
        }
    }

    public void reset() {
        java.util.Arrays.fill(counts, 0);
        total = 0;
        sum = 0;
        clamped = 0;
        min = Long.MAX_VALUE;
        max = 0;
    }

    public long count() {
        return total;
    }

    public long clamped() {
        return clamped;
    }

    public long highestTrackable() {
        return highest;
    }

    /** The smallest recorded value (exact), or 0 when empty. */
    public long min() {
        return total == 0 ? 0 : min;
    }

    /** The largest recorded value (exact), or 0 when empty. */
    public long max() {
        return max;
    }

    public double mean() {
        return total == 0 ? 0 : sum / total;
    }

    /**
     * The value at percentile {@code p} (0..100) by nearest rank: the smallest recorded value such that
     * at least {@code p}% of the values are at or below it, reported as the highest value of its bucket
     * (capped at the exact max). 0 when empty.
     */
    public long valueAtPercentile(double p) {
        if (p < 0 || p > 100 || Double.isNaN(p)) throw new IllegalArgumentException("percentile must be 0..100");
        if (total == 0) return 0;
        long rank = rank(p, total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) return Math.max(min, Math.min(max, highestOfIndex(i)));
        }
        return max;
    }

    /** Nearest rank (1-based) of percentile {@code p} among {@code n} values; tolerant of float noise. */
    static long rank(double p, long n) {
        long r = (long) Math.ceil(p * n / 100.0 - 1e-9);
        return Math.max(1, Math.min(n, r));
    }
}
