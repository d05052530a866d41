package dev.edgekit.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;

/**
 * Runs a bundle mode over the eval set: verify the mode's file ({@link Bundle#verify}, not timed),
 * load the model (timed), one first inference (timed, not counted), then every example once,
 * recording tokenization, inference and end-to-end times, buckets used and predictions. The same
 * loop as the Python runner, so records compare.
 */
public final class Benchmark {

    /** Progress callback, called on the benchmark thread after each example. */
    public interface Listener {
        void onProgress(int done, int total, TextClassifier.Prediction last);
    }

    /** Cooperative cancellation, polled between examples. */
    public interface Cancel {
        boolean isCancelled();
    }

    /** Everything measured by one run. */
    public static final class Result {
        public final String mode;
        public final int threads;
        public final double loadMs;
        public final double firstInferenceMs;
        public final Stats.Latency tokenization;
        public final Stats.Latency inference;
        public final Stats.Latency endToEnd;
        /** bucket length → examples run in it, ascending. */
        public final Map<Integer, Integer> bucketsUsed;
        public final int truncated;
        public final ClassificationReport report;
        public final int[] predictions;

        Result(String mode, int threads, double loadMs, double firstInferenceMs, Stats.Latency tokenization,
               Stats.Latency inference, Stats.Latency endToEnd, Map<Integer, Integer> bucketsUsed, int truncated,
               ClassificationReport report, int[] predictions) {
            this.mode = mode;
            this.threads = threads;
            this.loadMs = loadMs;
            this.firstInferenceMs = firstInferenceMs;
            this.tokenization = tokenization;
            this.inference = inference;
            this.endToEnd = endToEnd;
            this.bucketsUsed = bucketsUsed;
            this.truncated = truncated;
            this.report = report;
            this.predictions = predictions;
        }
    }

    private Benchmark() {}

    public static Result run(Bundle bundle, String modeName, int threads, EvalSet eval, ModelRunner.Factory factory,
                             Clock clock, Listener listener, Cancel cancel) throws Exception {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1");
        if (!eval.labels.equals(bundle.labels)) {
            throw new BundleException("eval labels " + eval.labels + " differ from the bundle's " + bundle.labels);
        }
        Manifest.Mode mode = bundle.manifest.mode(modeName);
        bundle.verify(modeName); // a truncated or changed model file: one clear line before anything runs (not timed)
        long t0 = clock.nanoTime();
        ModelRunner runner = factory.open(bundle, mode, threads);
        double loadMs = Clock.millisBetween(t0, clock.nanoTime());
        try (TextClassifier classifier = new TextClassifier(bundle, mode, runner, clock)) {
            double first = classifier.classify(eval.examples.get(0).text).inferenceMs;
            int n = eval.size();
            double[] tok = new double[n];
            double[] inf = new double[n];
            double[] e2e = new double[n];
            int[] pred = new int[n];
            Map<Integer, Integer> buckets = new TreeMap<>();
            int truncated = 0;
            for (int i = 0; i < n; i++) {
                if (cancel != null && cancel.isCancelled()) throw new CancellationException("benchmark cancelled");
                TextClassifier.Prediction p = classifier.classify(eval.examples.get(i).text);
                tok[i] = p.tokenizeMs;
                inf[i] = p.inferenceMs;
                e2e[i] = p.endToEndMs();
                pred[i] = p.labelIndex;
                Integer c = buckets.get(p.bucket.length);
                buckets.put(p.bucket.length, c == null ? 1 : c + 1);
                if (p.truncated()) truncated++;
                if (listener != null) listener.onProgress(i + 1, n, p);
            }
            ClassificationReport report = new ClassificationReport(eval.labelIndices(), pred, bundle.labels);
            return new Result(modeName, threads, loadMs, first, Stats.latency(tok), Stats.latency(inf),
                Stats.latency(e2e), buckets, truncated, report, pred);
        }
    }

    /** Per-example predictions as label names (for a details view or a debugging dump). */
    public static List<String> predictedLabels(Result r, List<String> labels) {
        List<String> out = new ArrayList<>(r.predictions.length);
        for (int p : r.predictions) out.add(labels.get(p));
        return out;
    }
}
