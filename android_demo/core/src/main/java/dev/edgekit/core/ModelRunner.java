package dev.edgekit.core;

/**
 * The one thing the core needs from an inference runtime (the Interpreter-like seam): run one
 * signature of a loaded model on {@code [1, L]} int32 inputs and return the float logits.
 * The app implements it with LiteRT; tests plug in a plain-Java model.
 */
public interface ModelRunner extends AutoCloseable {
    /**
     * Runs {@code signature} (e.g. "seq32") on one example; arrays have the bucket's length.
     *
     * @return logits, one per label (no softmax)
     */
    float[] run(String signature, int[] ids, int[] mask, int[] segmentIds) throws Exception;

    /** Frees native resources; idempotent. */
    @Override
    void close();

    /** Opens the model file of one mode of a bundle with a number of CPU threads. */
    interface Factory {
        ModelRunner open(Bundle bundle, Manifest.Mode mode, int threads) throws Exception;
    }
}
