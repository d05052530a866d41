package dev.edgekit.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bundle manifest ({@code manifest.json}, schema version 2; see {@code docs/contracts.md}).
 * Required fields mirror {@code edgekit.contracts.MANIFEST_REQUIRED} and {@code MODE_REQUIRED}
 * (schema 2 adds {@link ManifestRules#SCHEMA_ADDED}); a test checks the lists against the Python
 * ones through the golden fixture. {@link ManifestRules} holds the rules a manifest must follow.
 */
public final class Manifest {
    public static final int SCHEMA_VERSION = 2;

    public static final List<String> REQUIRED = Collections.unmodifiableList(Arrays.asList(
        "schema_version",
        "model.name",
        "model.family",
        "model.source_checkpoint",
        "labels",
        "tokenizer.type",
        "tokenizer.vocab_file",
        "tokenizer.lower_case",
        "tokenizer.strip_accents",
        "tokenizer.special_tokens",
        "inputs",
        "outputs",
        "buckets",
        "modes"));

    public static final List<String> MODE_REQUIRED = Collections.unmodifiableList(
        Arrays.asList("file", "bytes", "sha256", "signatures", "parity"));

    /** The three int32 inputs every signature takes, in the contract's order. */
    public static final List<String> INPUT_NAMES = Collections.unmodifiableList(Arrays.asList("ids", "mask", "segment_ids"));

    /** The four modes the converters write, in the order the app offers them. */
    public static final List<String> KNOWN_MODES = Collections.unmodifiableList(
        Arrays.asList("fp32", "fp16", "dynamic_int8", "int8"));

    /** A sequence-length bucket: one fixed-shape signature of every model file. */
    public static final class Bucket {
        public final int length;
        public final String signature;

        public Bucket(int length, String signature) {
            this.length = length;
            this.signature = signature;
        }

        @Override
        public String toString() {
            return signature + "[" + length + "]";
        }
    }

    /** One converted model file of the bundle. */
    public static final class Mode {
        public final String name;
        public final String file;
        public final long bytes;
        public final String sha256;
        public final List<String> signatures;
        public final Map<String, Object> parity;

        Mode(String name, String file, long bytes, String sha256, List<String> signatures, Map<String, Object> parity) {
            this.name = name;
            this.file = file;
            this.bytes = bytes;
            this.sha256 = sha256;
            this.signatures = signatures;
            this.parity = parity;
        }
    }

    public final int schemaVersion;
    public final String modelName;
    public final String family;
    public final String sourceCheckpoint;
    /** Rows of the model's embedding table: no vocabulary id may reach it. */
    public final long embeddingRows;
    /** The model's output width; equals {@code labels.size()}. */
    public final int numClasses;
    public final List<String> labels;
    public final String vocabFile;
    /** Entries of {@link #vocabFile} (its lines, trailing empty ones dropped). */
    public final long vocabSize;
    /** SHA-256 (hex) of {@link #vocabFile}'s bytes. */
    public final String vocabSha256;
    public final WordPieceTokenizer.Settings tokenizerSettings;
    public final List<String> inputNames;
    public final String outputName;
    /** Ascending by length. */
    public final List<Bucket> buckets;
    /** In manifest order. */
    public final Map<String, Mode> modes;
    /** The whole parsed document, for fields this class does not name. */
    public final Map<String, Object> raw;
    /** {@code task_library.file} (a model with TFLite Task Library metadata), or null. */
    public final String taskFile;

    /** The typed view of a manifest the rules accept; a field of the wrong type is a Json.JsonException. */
    private Manifest(Map<String, Object> m) {
        raw = m;
        schemaVersion = (int) Json.asLong(m.get("schema_version"), "schema_version");
        modelName = Json.asString(Json.path(m, "model.name"), "model.name");
        family = Json.asString(Json.path(m, "model.family"), "model.family");
        Object src = Json.path(m, "model.source_checkpoint");
        sourceCheckpoint = src == null ? "" : String.valueOf(src);
        embeddingRows = Json.asLong(Json.path(m, "model.embedding_rows"), "model.embedding_rows");
        List<String> ls = new ArrayList<>();
        for (Object o : Json.asList(m.get("labels"), "labels")) ls.add(Json.asString(o, "labels[]"));
        labels = Collections.unmodifiableList(ls);
        numClasses = (int) Json.asLong(Json.path(m, "model.num_classes"), "model.num_classes"); // == labels.size()
        Map<String, Object> tok = Json.asObject(m.get("tokenizer"), "tokenizer");
        vocabFile = Json.asString(tok.get("vocab_file"), "tokenizer.vocab_file");
        vocabSize = Json.asLong(tok.get("vocab_size"), "tokenizer.vocab_size");
        vocabSha256 = Json.asString(tok.get("vocab_sha256"), "tokenizer.vocab_sha256");
        tokenizerSettings = WordPieceTokenizer.Settings.fromJson(tok);
        List<String> ins = new ArrayList<>();
        for (Object o : Json.asList(m.get("inputs"), "inputs")) {
            ins.add(Json.asString(Json.asObject(o, "inputs[]").get("name"), "inputs[].name"));
        }
        inputNames = Collections.unmodifiableList(ins);
        for (String name : INPUT_NAMES) {
            if (!inputNames.contains(name)) throw new Json.JsonException("inputs lack '" + name + "' (has " + inputNames + ")");
        }
        List<Object> outs = Json.asList(m.get("outputs"), "outputs");
        outputName = outs.isEmpty() ? "logits" : Json.asString(Json.asObject(outs.get(0), "outputs[]").get("name"), "outputs[].name");
        List<Bucket> bs = new ArrayList<>();
        for (Object o : Json.asList(m.get("buckets"), "buckets")) {
            Map<String, Object> b = Json.asObject(o, "buckets[]");
            long length = Json.asLong(b.get("length"), "buckets[].length");
            if (length > Integer.MAX_VALUE) throw new Json.JsonException("buckets[].length " + length + " is too long");
            bs.add(new Bucket((int) length, Json.asString(b.get("signature"), "buckets[].signature")));
        }
        bs.sort(Comparator.comparingInt(b -> b.length));
        buckets = Collections.unmodifiableList(bs);
        Map<String, Mode> ms = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : Json.asObject(m.get("modes"), "modes").entrySet()) {
            String where = "modes." + e.getKey();
            Map<String, Object> mo = Json.asObject(e.getValue(), where);
            List<String> sigs = new ArrayList<>();
            for (Object s : Json.asList(mo.get("signatures"), where + ".signatures")) sigs.add(Json.asString(s, where + ".signatures[]"));
            Object sha = mo.get("sha256"); // not a string: no file matches it, Bundle.verify says so (code sha256)
            ms.put(e.getKey(), new Mode(e.getKey(),
                Json.asString(mo.get("file"), where + ".file"),
                Json.asLong(mo.get("bytes"), where + ".bytes"),
                sha instanceof String ? (String) sha : Json.write(sha),
                Collections.unmodifiableList(sigs),
                mo.get("parity") instanceof Map ? Json.asObject(mo.get("parity"), where + ".parity") : Collections.emptyMap()));
        }
        modes = Collections.unmodifiableMap(ms);
        Object task = m.get("task_library");
        boolean hasTask = task instanceof Map && ((Map<?, ?>) task).containsKey("file");
        taskFile = hasTask ? Json.asString(((Map<?, ?>) task).get("file"), "task_library.file") : null;
    }

    /** Parses {@code manifest.json}'s text and applies {@link ManifestRules}; errors name {@code manifest.json}. */
    public static Manifest parse(String json) throws BundleException {
        return checked(json(json, Bundle.MANIFEST), Bundle.MANIFEST);
    }

    /** The JSON object of {@code manifest.json}'s text (code {@code manifest} when it is none). */
    static Map<String, Object> json(String text, String where) throws BundleException {
        try {
            return Json.parseObject(text);
        } catch (Json.JsonException e) {
            throw new BundleException("manifest", where + ": " + e.getMessage());
        }
    }

    /** {@code m} once every manifest rule holds; the first broken rule group otherwise. */
    static Manifest checked(Map<String, Object> m, String where) throws BundleException {
        Problem.check(where, ManifestRules.problems(m));
        return typed(m, where);
    }

    /**
     * The typed view of a manifest the rules accept. Fields the rules leave open (tokenizer settings,
     * inputs, outputs, signatures, names) must still have their types: code {@code missing_field}.
     */
    static Manifest typed(Map<String, Object> m, String where) throws BundleException {
        try {
            return new Manifest(m);
        } catch (Json.JsonException e) {
            throw new BundleException("missing_field", where + ": " + e.getMessage());
        }
    }

    /** Modes in the app's preferred order (fp32, fp16, dynamic_int8, int8, then any others). */
    public List<String> modeNames() {
        List<String> out = new ArrayList<>();
        for (String k : KNOWN_MODES) if (modes.containsKey(k)) out.add(k);
        for (String k : modes.keySet()) if (!out.contains(k)) out.add(k);
        return out;
    }

    public Mode mode(String name) throws BundleException {
        Mode m = modes.get(name);
        if (m == null) {
            throw new BundleException("modes", "bundle " + modelName + " has no mode " + name + " (has " + modeNames() + ")");
        }
        return m;
    }

    /** Smallest bucket that holds {@code numTokens}; the largest (truncating) when none does. */
    public Bucket chooseBucket(int numTokens) {
        return chooseBucket(buckets, numTokens);
    }

    public static Bucket chooseBucket(List<Bucket> ascending, int numTokens) {
        if (ascending.isEmpty()) throw new IllegalArgumentException("no buckets");
        for (Bucket b : ascending) {
            if (b.length >= numTokens) return b;
        }
        return ascending.get(ascending.size() - 1);
    }

    /** labels.txt as the Python reader reads it: each line stripped, blank lines skipped. */
    public static List<String> parseLabels(String text) {
        List<String> out = new ArrayList<>();
        for (String line : Strings.lines(text)) {
            String label = Strings.strip(line);
            if (!label.isEmpty()) out.add(label);
        }
        return out;
    }
}
