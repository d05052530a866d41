package dev.edgekit.core;

import java.util.List;

/**
 * Tokenize → choose the smallest bucket that fits → run that signature → softmax: the app's
 * Classify screen and the benchmark loop both go through {@link #classify(String)}.
 */
public final class TextClassifier implements AutoCloseable {

    /** The outcome of one sentence, with the time spent tokenizing and in the model. */
    public static final class Prediction {
        public final int labelIndex;
        public final String label;
        public final float[] logits;
        public final double[] probabilities;
        public final Manifest.Bucket bucket;
        public final int numTokens;
        public final double tokenizeMs;
        public final double inferenceMs;

        Prediction(int labelIndex, String label, float[] logits, double[] probabilities, Manifest.Bucket bucket,
                   int numTokens, double tokenizeMs, double inferenceMs) {
            this.labelIndex = labelIndex;
            this.label = label;
            this.logits = logits;
            this.probabilities = probabilities;
            this.bucket = bucket;
            this.numTokens = numTokens;
            this.tokenizeMs = tokenizeMs;
            this.inferenceMs = inferenceMs;
        }

        /** True when the sentence did not fit the largest bucket and was cut. */
        public boolean truncated() {
            return numTokens > bucket.length;
        }

        public double endToEndMs() {
            return tokenizeMs + inferenceMs;
        }
    }

    public final Bundle bundle;
    public final Manifest.Mode mode;
    private final ModelRunner runner;
    private final Clock clock;

    public TextClassifier(Bundle bundle, Manifest.Mode mode, ModelRunner runner, Clock clock) {
        this.bundle = bundle;
        this.mode = mode;
        this.runner = runner;
        this.clock = clock;
    }

    public TextClassifier(Bundle bundle, Manifest.Mode mode, ModelRunner runner) {
        this(bundle, mode, runner, Clock.SYSTEM);
    }

    public Prediction classify(String text) throws Exception {
        long t0 = clock.nanoTime();
        List<String> tokens = bundle.tokenizer.tokenize(text);
        Manifest.Bucket bucket = bundle.manifest.chooseBucket(tokens.size() + 2);
        WordPieceTokenizer.Encoding enc = bundle.tokenizer.encodeTokens(tokens, bucket.length);
        long t1 = clock.nanoTime();
        float[] logits = runner.run(bucket.signature, enc.ids, enc.mask, enc.segmentIds);
        long t2 = clock.nanoTime();
        int k = bundle.labels.size();
        if (logits == null || logits.length != k) {
            throw new BundleException("label_count", "model " + mode.file + " returned " + (logits == null ? 0 : logits.length)
                + " logits for " + k + " labels");
        }
        int best = Stats.argmax(logits);
        return new Prediction(best, bundle.labels.get(best), logits, Stats.softmax(logits), bucket, enc.numTokens,
            Clock.millisBetween(t0, t1), Clock.millisBetween(t1, t2));
    }

    @Override
    public void close() {
        runner.close();
    }
}
