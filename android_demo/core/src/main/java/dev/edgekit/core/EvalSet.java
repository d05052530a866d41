package dev.edgekit.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The labelled eval set the app benchmarks: JSONL, one {@code {"text": ..., "label": ...}} per line
 * (what {@code edgekit android-assets} writes), labels from the bundle's label set.
 */
public final class EvalSet {
    public static final class Example {
        public final String text;
        public final String label;
        public final int labelIndex;

        Example(String text, String label, int labelIndex) {
            this.text = text;
            this.label = label;
            this.labelIndex = labelIndex;
        }
    }

    public final List<Example> examples;
    public final List<String> labels;

    private EvalSet(List<Example> examples, List<String> labels) {
        this.examples = Collections.unmodifiableList(examples);
        this.labels = Collections.unmodifiableList(new ArrayList<>(labels));
    }

    public int size() {
        return examples.size();
    }

    public static EvalSet parseJsonl(String text, List<String> labels, String where) throws BundleException {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < labels.size(); i++) index.put(labels.get(i), i);
        List<Example> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.trim().isEmpty()) continue;
            String at = where + ":" + (i + 1);
            Map<String, Object> obj;
            try {
                obj = Json.parseObject(line);
            } catch (Json.JsonException e) {
                throw new BundleException(at + ": " + e.getMessage());
            }
            if (!(obj.get("text") instanceof String) || !(obj.get("label") instanceof String)) {
                throw new BundleException(at + ": expected an object with string 'text' and 'label'");
            }
            String label = (String) obj.get("label");
            Integer li = index.get(label);
            if (li == null) {
                throw new BundleException(at + ": label '" + label + "' is not one of the bundle's labels " + labels);
            }
            out.add(new Example((String) obj.get("text"), label, li));
        }
        if (out.isEmpty()) throw new BundleException(where + ": no examples");
        return new EvalSet(out, labels);
    }

    public int[] labelIndices() {
        int[] y = new int[examples.size()];
        for (int i = 0; i < y.length; i++) y[i] = examples.get(i).labelIndex;
        return y;
    }

    /**
     * The content hash of {@code edgekit.data.Dataset.sha256}: the labels joined by U+001F and a
     * newline, then "label\ttext\n" per example, in order, UTF-8.
     */
    public String sha256() {
        MessageDigest md = Sha256.digest();
        md.update((Strings.join("\u001f", labels) + "\n").getBytes(StandardCharsets.UTF_8));
        for (Example e : examples) {
            md.update((e.label + "\t" + e.text + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return Sha256.hex(md.digest());
    }
}
