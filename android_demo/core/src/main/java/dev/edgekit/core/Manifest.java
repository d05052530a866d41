package dev.edgekit.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bundle manifest ({@code manifest.json}, schema version 1; see {@code docs/contracts.md}).
 * Required fields mirror {@code edgekit.contracts.MANIFEST_REQUIRED} and {@code MODE_REQUIRED};
 * a test checks the lists against the Python ones through the golden fixture.
 */
public final class Manifest {
    public static final int SCHEMA_VERSION = 1;

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
    public final List<String> labels;
    public final String vocabFile;
    public final WordPieceTokenizer.Settings tokenizerSettings;
    public final List<String> inputNames;
    public final String outputName;
    /** Ascending by length. */
    public final List<Bucket> buckets;
    /** In manifest order. */
    public final Map<String, Mode> modes;
    /** The whole parsed document, for fields this class does not name. */
    public final Map<String, Object> raw;

    private Manifest(Map<String, Object> m) {
        raw = m;
        schemaVersion = (int) Json.asLong(m.get("schema_version"), "schema_version");
        modelName = Json.asString(Json.path(m, "model.name"), "model.name");
        family = Json.asString(Json.path(m, "model.family"), "model.family");
        Object src = Json.path(m, "model.source_checkpoint");
        sourceCheckpoint = src == null ? "" : String.valueOf(src);
        List<String> ls = new ArrayList<>();
        for (Object o : Json.asList(m.get("labels"), "labels")) ls.add(Json.asString(o, "labels[]"));
        labels = Collections.unmodifiableList(ls);
        Map<String, Object> tok = Json.asObject(m.get("tokenizer"), "tokenizer");
        vocabFile = Json.asString(tok.get("vocab_file"), "tokenizer.vocab_file");
        tokenizerSettings = WordPieceTokenizer.Settings.fromJson(tok);
        List<String> ins = new ArrayList<>();
        for (Object o : Json.asList(m.get("inputs"), "inputs")) {
            ins.add(Json.asString(Json.asObject(o, "inputs[]").get("name"), "inputs[].name"));
        }
        inputNames = Collections.unmodifiableList(ins);
        List<Object> outs = Json.asList(m.get("outputs"), "outputs");
        outputName = outs.isEmpty() ? "logits" : Json.asString(Json.asObject(outs.get(0), "outputs[]").get("name"), "outputs[].name");
        List<Bucket> bs = new ArrayList<>();
        for (Object o : Json.asList(m.get("buckets"), "buckets")) {
            Map<String, Object> b = Json.asObject(o, "buckets[]");
            bs.add(new Bucket((int) Json.asLong(b.get("length"), "buckets[].length"),
                Json.asString(b.get("signature"), "buckets[].signature")));
        }
        bs.sort(Comparator.comparingInt(b -> b.length));
        buckets = Collections.unmodifiableList(bs);
        Map<String, Mode> ms = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : Json.asObject(m.get("modes"), "modes").entrySet()) {
            String where = "modes." + e.getKey();
            Map<String, Object> mo = Json.asObject(e.getValue(), where);
            List<String> sigs = new ArrayList<>();
            for (Object s : Json.asList(mo.get("signatures"), where + ".signatures")) sigs.add(Json.asString(s, where + ".signatures[]"));
            ms.put(e.getKey(), new Mode(e.getKey(),
                Json.asString(mo.get("file"), where + ".file"),
                Json.asLong(mo.get("bytes"), where + ".bytes"),
                Json.asString(mo.get("sha256"), where + ".sha256"),
                Collections.unmodifiableList(sigs),
                mo.get("parity") instanceof Map ? Json.asObject(mo.get("parity"), where + ".parity") : Collections.emptyMap()));
        }
        modes = Collections.unmodifiableMap(ms);
    }

    /** The problems with a parsed manifest, as readable strings; empty when it is usable. */
    public static List<String> problems(Map<String, Object> m) {
        List<String> out = new ArrayList<>();
        for (String p : Json.missing(m, REQUIRED)) out.add("missing " + p);
        Object modes = m.get("modes");
        if (modes instanceof Map) {
            for (Map.Entry<String, Object> e : Json.asObject(modes, "modes").entrySet()) {
                for (String p : Json.missing(e.getValue(), MODE_REQUIRED)) out.add("mode " + e.getKey() + ": missing " + p);
            }
        }
        Object v = m.get("schema_version");
        if (v instanceof Number && ((Number) v).longValue() > SCHEMA_VERSION) {
            out.add("schema_version " + v + " is newer than this app reads");
        }
        return out;
    }

    /** Parses and validates; every problem ends up in one message. */
    public static Manifest parse(String json) throws BundleException {
        Map<String, Object> m;
        try {
            m = Json.parseObject(json);
        } catch (Json.JsonException e) {
            throw new BundleException("manifest.json: " + e.getMessage());
        }
        List<String> problems = problems(m);
        if (!problems.isEmpty()) {
            throw new BundleException("manifest.json: " + Strings.join("; ", problems));
        }
        Manifest out;
        try {
            out = new Manifest(m);
        } catch (Json.JsonException e) {
            throw new BundleException("manifest.json: " + e.getMessage());
        }
        out.check();
        return out;
    }

    private void check() throws BundleException {
        if (labels.isEmpty()) throw new BundleException("manifest.json: no labels");
        if (buckets.isEmpty()) throw new BundleException("manifest.json: no buckets");
        if (modes.isEmpty()) throw new BundleException("manifest.json: no modes");
        for (String name : INPUT_NAMES) {
            if (!inputNames.contains(name)) {
                throw new BundleException("manifest.json: inputs lack '" + name + "' (has " + inputNames + ")");
            }
        }
        for (Mode mode : modes.values()) {
            for (Bucket b : buckets) {
                if (!mode.signatures.contains(b.signature)) {
                    throw new BundleException("manifest.json: mode " + mode.name + " has no signature " + b.signature
                        + " for bucket " + b.length);
                }
            }
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
        if (m == null) throw new BundleException("bundle " + modelName + " has no mode " + name + " (has " + modeNames() + ")");
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

    /** labels.txt: one label per line, trailing empty lines ignored. */
    public static List<String> parseLabels(String text) {
        List<String> out = new ArrayList<>(Arrays.asList(text.split("\r?\n", -1)));
        while (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) out.remove(out.size() - 1);
        return out;
    }
}
