package dev.edgekit.core;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Numbers shared with {@code edgekit/metrics.py}: linear-interpolation percentiles (numpy's
 * default), latency blocks with population std, softmax and argmax.
 */
public final class Stats {
    private Stats() {}

    public static final int[] PERCENTILES = {50, 90, 99};

    /** Linear-interpolation percentile of unsorted values, q in [0, 100]. */
    public static double percentile(double[] values, double q) {
        if (values.length == 0) throw new IllegalArgumentException("no values");
        double[] a = values.clone();
        Arrays.sort(a);
        return percentileSorted(a, q);
    }

    static double percentileSorted(double[] a, double q) {
        double pos = (a.length - 1) * (q / 100.0);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, a.length - 1);
        return a[lo] + (a[hi] - a[lo]) * (pos - lo);
    }

    /** A latency block: p50, p90, p99, mean, std (population), min, max (ms) and count. */
    public static final class Latency {
        public final double p50, p90, p99, mean, std, min, max;
        public final int count;

        Latency(double p50, double p90, double p99, double mean, double std, double min, double max, int count) {
            this.p50 = p50;
            this.p90 = p90;
            this.p99 = p99;
            this.mean = mean;
            this.std = std;
            this.min = min;
            this.max = max;
            this.count = count;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("p50", p50);
            m.put("p90", p90);
            m.put("p99", p99);
            m.put("mean", mean);
            m.put("std", std);
            m.put("min", min);
            m.put("max", max);
            m.put("count", count);
            return m;
        }
    }

    public static Latency latency(double[] valuesMs) {
        if (valuesMs.length == 0) throw new IllegalArgumentException("no latency samples");
        double[] a = valuesMs.clone();
        Arrays.sort(a);
        double sum = 0;
        for (double v : valuesMs) sum += v;
        double mean = sum / a.length;
        double ss = 0;
        for (double v : valuesMs) ss += (v - mean) * (v - mean);
        return new Latency(
            percentileSorted(a, 50), percentileSorted(a, 90), percentileSorted(a, 99),
            mean, Math.sqrt(ss / a.length), a[0], a[a.length - 1], a.length);
    }

    public static Latency latency(List<Double> valuesMs) {
        double[] a = new double[valuesMs.size()];
        for (int i = 0; i < a.length; i++) a[i] = valuesMs.get(i);
        return latency(a);
    }

    /** Numerically stable softmax of float logits, in double. */
    public static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] e = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            e[i] = Math.exp(logits[i] - max);
            sum += e[i];
        }
        for (int i = 0; i < e.length; i++) e[i] /= sum;
        return e;
    }

    /** Index of the largest value; the first one on ties (numpy's argmax). */
    public static int argmax(float[] v) {
        if (v.length == 0) throw new IllegalArgumentException("empty");
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    public static int argmax(double[] v) {
        if (v.length == 0) throw new IllegalArgumentException("empty");
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
