package dev.edgekit.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One bundle rule a bundle breaks: its {@code code} (one of {@link #CODES}) and a readable message.
 * The Python reader ({@code edgekit.contracts.PROBLEM_CODES}) reports the same code for the same
 * broken bundle; {@code BundleRulesTest} holds both to the golden file of broken bundles.
 */
public final class Problem {
    /**
     * Every rule code, in {@code PROBLEM_CODES}'s order (docs/contracts.md, "Validation"). The manifest's
     * groups run in this order; the file checks of {@link Bundle#load} run file_missing, file_size,
     * vocab_size, sha256 (vocab.txt), labels_file, then {@link Bundle#verify} file_size, sha256.
     */
    public static final List<String> CODES = Collections.unmodifiableList(Arrays.asList(
        "manifest",        // manifest.json missing, not JSON or not an object
        "schema_version",  // schema_version not an integer this app reads
        "missing_field",   // a required field absent or of the wrong type
        "labels",          // labels not a non-empty list of distinct non-blank strings
        "label_count",     // label count differs from model.num_classes
        "buckets",         // buckets not a non-empty list of distinct positive lengths with distinct signatures
        "modes",           // no modes, or a mode entry incomplete
        "signatures",      // a mode lacks a bucket's signature
        "path",            // a file name that is absolute, has '..' or a backslash, or leaves the bundle
        "vocab_rows",      // more vocabulary entries than the model has embedding rows
        "file_missing",    // a file the manifest names is not there
        "vocab_size",      // vocab.txt's entry count differs from tokenizer.vocab_size
        "labels_file",     // labels.txt differs from the manifest's labels
        "file_size",       // a model file's size differs from the manifest
        "sha256"));        // a file's sha256 differs from the manifest

    /** How many messages one error carries at most (as the Python reader). */
    private static final int SHOWN = 3;

    public final String code;
    public final String message;

    public Problem(String code, String message) {
        if (!CODES.contains(code)) throw new IllegalArgumentException("unknown rule code " + code);
        this.code = code;
        this.message = message;
    }

    /** Throws the error for {@code problems} (the first one's code) unless the list is empty. */
    static void check(String where, List<Problem> problems) throws BundleException {
        if (problems.isEmpty()) return;
        List<String> messages = new ArrayList<>();
        for (Problem p : problems.subList(0, Math.min(SHOWN, problems.size()))) messages.add(p.message);
        throw new BundleException(problems.get(0).code, where + ": " + Strings.join("; ", messages));
    }

    /** A value as it appears in a one-line message: JSON, so a name with a line break stays on one line. */
    static String show(Object value) {
        String s = Json.write(value);
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }

    @Override
    public String toString() {
        return code + ": " + message;
    }
}
