package dev.edgekit.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The manifest's bundle rules (docs/contracts.md, "Validation"), as {@code edgekit.contracts.manifest_problems}
 * applies them: rule groups in a fixed order, each run only when the ones before it found nothing, so a
 * broken manifest reports its first problem class with the same code in Python and here. The rules on
 * the bundle's files follow in {@link Bundle#load}.
 */
public final class ManifestRules {
    private ManifestRules() {}

    /** The schema versions this core reads ({@code contracts.SUPPORTED_MANIFEST_VERSIONS}). */
    public static final List<Long> SUPPORTED_VERSIONS = Collections.singletonList((long) Manifest.SCHEMA_VERSION);

    /** Fields a schema version adds to {@link Manifest#REQUIRED} ({@code contracts.SCHEMA_ADDED}). */
    public static final Map<Long, List<String>> SCHEMA_ADDED = Collections.singletonMap(2L, Collections.unmodifiableList(
        Arrays.asList("model.embedding_rows", "model.num_classes", "tokenizer.vocab_size", "tokenizer.vocab_sha256")));

    private interface Rule {
        List<Problem> check(Map<String, Object> manifest);
    }

    /** In this order (later groups read what earlier ones checked). */
    private static final List<Rule> RULES = Collections.unmodifiableList(Arrays.<Rule>asList(
        ManifestRules::schema, ManifestRules::labels, ManifestRules::buckets, ManifestRules::modes,
        ManifestRules::paths, ManifestRules::vocabRows));

    /** What is wrong with a parsed manifest: the first rule group's problems (empty when it may be read). */
    @SuppressWarnings("unchecked")
    public static List<Problem> problems(Object manifest) {
        if (!(manifest instanceof Map)) {
            return Collections.singletonList(new Problem("manifest", Bundle.MANIFEST + " is not a JSON object"));
        }
        for (Rule rule : RULES) {
            List<Problem> found = rule.check((Map<String, Object>) manifest);
            if (!found.isEmpty()) return found;
        }
        return Collections.emptyList();
    }

    /** Why {@code name} cannot be a file of a bundle, or null when it can ({@code contracts.bad_file_name}). */
    public static String badFileName(Object name) {
        if (!(name instanceof String) || ((String) name).isEmpty()) return "is not a file name";
        String s = (String) name;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < 32 || s.charAt(i) == 127) return "has a control character";
        }
        String[] parts = s.split("/", -1);
        if (s.startsWith("/") || s.contains("\\") || parts[0].contains(":")) return "is not a relative path inside the bundle";
        for (String part : parts) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) return "has an empty, '.' or '..' part";
        }
        return null;
    }

    /**
     * What each file the manifest names is ("vocabulary", "mode fp32", "task file", "task file int8") → its
     * name as the manifest holds it (not necessarily a string), in manifest order ({@code contracts.manifest_files}):
     * {@code task_library} and each entry of {@code other_task_files} that has a "file" ({@code contracts.task_entries}).
     */
    public static Map<String, Object> files(Map<String, Object> manifest) {
        Map<String, Object> out = new LinkedHashMap<>();
        Object tok = manifest.get("tokenizer");
        out.put("vocabulary", tok instanceof Map ? ((Map<?, ?>) tok).get("vocab_file") : null);
        Object modes = manifest.get("modes");
        if (modes instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) modes).entrySet()) {
                Object entry = e.getValue();
                out.put("mode " + e.getKey(), entry instanceof Map ? ((Map<?, ?>) entry).get("file") : null);
            }
        }
        Object task = manifest.get("task_library");
        if (task instanceof Map && ((Map<?, ?>) task).containsKey("file")) out.put("task file", ((Map<?, ?>) task).get("file"));
        Object others = manifest.get("other_task_files");
        if (others instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) others).entrySet()) {
                Object entry = e.getValue();
                if (entry instanceof Map && ((Map<?, ?>) entry).containsKey("file")) {
                    out.put("task file " + e.getKey(), ((Map<?, ?>) entry).get("file"));
                }
            }
        }
        return out;
    }

    /** A JSON integer (not a boolean, not a float). */
    static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Integer;
    }

    private static long asInt(Object v) {
        return ((Number) v).longValue();
    }

    // ------------------------------------------------------------------ the rule groups

    private static List<Problem> schema(Map<String, Object> m) {
        Object version = m.get("schema_version");
        if (!isInt(version) || !SUPPORTED_VERSIONS.contains(asInt(version))) {
            String why;
            if (isInt(version) && asInt(version) > 0 && asInt(version) < Collections.min(SUPPORTED_VERSIONS)) {
                why = "schema_version " + version + " predates the checks of the vocabulary and labels against the model: "
                    + "convert the model again";
            } else {
                why = "schema_version " + Problem.show(version) + " is not one this app reads ("
                    + Strings.join(", ", names(SUPPORTED_VERSIONS)) + ")";
            }
            return Collections.singletonList(new Problem("schema_version", why));
        }
        List<String> required = new ArrayList<>(Manifest.REQUIRED);
        for (Map.Entry<Long, List<String>> added : SCHEMA_ADDED.entrySet()) {
            if (asInt(version) >= added.getKey()) required.addAll(added.getValue());
        }
        List<Problem> out = new ArrayList<>();
        for (String path : Json.missing(m, required)) out.add(new Problem("missing_field", "missing " + path));
        if (!out.isEmpty()) return out;
        for (Map.Entry<String, Predicate<Object>> t : FIELD_TYPES.entrySet()) {
            if (!t.getValue().test(Json.path(m, t.getKey()))) out.add(new Problem("missing_field", t.getKey() + " has the wrong type"));
        }
        return out;
    }

    /** What the fields the readers use must be ({@code contracts.FIELD_TYPES}; another type is {@code missing_field}). */
    private static final Map<String, Predicate<Object>> FIELD_TYPES = fieldTypes();

    private static Map<String, Predicate<Object>> fieldTypes() {
        Map<String, Predicate<Object>> typed = new LinkedHashMap<>();
        typed.put("model.name", v -> v instanceof String);
        typed.put("model.embedding_rows", ManifestRules::isPositiveInt);
        typed.put("model.num_classes", ManifestRules::isPositiveInt);
        typed.put("tokenizer.vocab_file", v -> v instanceof String);
        typed.put("tokenizer.vocab_size", ManifestRules::isPositiveInt);
        typed.put("tokenizer.vocab_sha256", v -> v instanceof String);
        typed.put("tokenizer.lower_case", v -> v instanceof Boolean);
        typed.put("tokenizer.strip_accents", v -> v == null || v instanceof Boolean);
        typed.put("tokenizer.special_tokens", v -> {
            if (!(v instanceof Map)) return false;
            for (Object t : ((Map<?, ?>) v).values()) if (!(t instanceof String)) return false;
            return true;
        });
        typed.put("inputs", ManifestRules::isNamedList);
        typed.put("outputs", ManifestRules::isNamedList);
        typed.put("modes", v -> v instanceof Map);
        return Collections.unmodifiableMap(typed);
    }

    private static boolean isPositiveInt(Object v) {
        return isInt(v) && asInt(v) > 0;
    }

    /** A non-empty list of objects with a string "name" (the inputs and outputs). */
    private static boolean isNamedList(Object v) {
        if (!(v instanceof List) || ((List<?>) v).isEmpty()) return false;
        for (Object o : (List<?>) v) if (!(o instanceof Map) || !(((Map<?, ?>) o).get("name") instanceof String)) return false;
        return true;
    }

    private static List<Problem> labels(Map<String, Object> m) {
        Object labels = m.get("labels");
        boolean ok = labels instanceof List && !((List<?>) labels).isEmpty()
            && new HashSet<>((List<?>) labels).size() == ((List<?>) labels).size();
        if (ok) {
            for (Object label : (List<?>) labels) {
                ok &= label instanceof String && !Strings.strip((String) label).isEmpty()
                    && Strings.strip((String) label).equals(label);
            }
        }
        if (!ok) {
            return Collections.singletonList(new Problem("labels", "labels must be a non-empty list of distinct names "
                + "without surrounding spaces, got "
                + Problem.show(labels)));
        }
        long classes = asInt(Json.path(m, "model.num_classes"));
        int count = ((List<?>) labels).size();
        if (count != classes) {
            return Collections.singletonList(new Problem("label_count", count + " labels but the model has " + classes + " outputs"));
        }
        return Collections.emptyList();
    }

    private static List<Problem> buckets(Map<String, Object> m) {
        List<Problem> bad = Collections.singletonList(new Problem("buckets", "buckets must be a non-empty list of "
            + "{length, signature} with distinct positive lengths and distinct signatures"));
        Object buckets = m.get("buckets");
        if (!(buckets instanceof List) || ((List<?>) buckets).isEmpty()) return bad;
        Set<Long> lengths = new HashSet<>();
        Set<String> signatures = new HashSet<>();
        for (Object o : (List<?>) buckets) {
            if (!(o instanceof Map)) return bad;
            Object length = ((Map<?, ?>) o).get("length");
            Object signature = ((Map<?, ?>) o).get("signature");
            if (!isInt(length) || asInt(length) <= 0 || !(signature instanceof String) || ((String) signature).isEmpty()) return bad;
            lengths.add(asInt(length));
            signatures.add((String) signature);
        }
        int n = ((List<?>) buckets).size();
        return lengths.size() == n && signatures.size() == n ? Collections.<Problem>emptyList() : bad;
    }

    private static List<Problem> modes(Map<String, Object> m) {
        Map<?, ?> modes = (Map<?, ?>) m.get("modes");
        if (modes.isEmpty()) return Collections.singletonList(new Problem("modes", "no modes"));
        Set<String> signatures = new TreeSet<>();
        for (Object b : (List<?>) m.get("buckets")) signatures.add((String) ((Map<?, ?>) b).get("signature"));
        List<Problem> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : modes.entrySet()) {
            String mode = "mode " + e.getKey();
            if (!(e.getValue() instanceof Map)) {
                out.add(new Problem("modes", mode + ": not an object"));
                continue;
            }
            Map<?, ?> entry = (Map<?, ?>) e.getValue();
            for (String p : Json.missing(entry, Manifest.MODE_REQUIRED)) out.add(new Problem("modes", mode + ": missing " + p));
            if (entry.containsKey("bytes") && (!isInt(entry.get("bytes")) || asInt(entry.get("bytes")) < 0)) {
                out.add(new Problem("modes", mode + ": bytes must be a whole number"));
            }
            Object listed = entry.containsKey("signatures") ? entry.get("signatures") : Collections.emptyList();
            boolean names = listed instanceof List;
            if (names) for (Object x : (List<?>) listed) names &= x instanceof String;
            if (!names) {
                out.add(new Problem("modes", mode + ": signatures must be a list of names"));
            } else {
                Set<String> lacking = new TreeSet<>(signatures);
                lacking.removeAll((List<?>) listed);
                if (!lacking.isEmpty()) out.add(new Problem("signatures", mode + ": lacks signatures " + Problem.show(lacking)));
            }
        }
        return out;
    }

    private static List<Problem> paths(Map<String, Object> m) {
        List<Problem> out = new ArrayList<>();
        for (Map.Entry<String, Object> f : files(m).entrySet()) {
            String why = badFileName(f.getValue());
            if (why != null) out.add(new Problem("path", f.getKey() + " " + Problem.show(f.getValue()) + " " + why));
        }
        return out;
    }

    private static List<Problem> vocabRows(Map<String, Object> m) {
        long size = asInt(Json.path(m, "tokenizer.vocab_size"));
        long rows = asInt(Json.path(m, "model.embedding_rows"));
        if (size > rows) {
            return Collections.singletonList(new Problem("vocab_rows", "tokenizer.vocab_size " + size + " exceeds the model's "
                + rows + " embedding rows"));
        }
        return Collections.emptyList();
    }

    private static List<String> names(List<?> values) {
        List<String> out = new ArrayList<>();
        for (Object v : values) out.add(String.valueOf(v));
        return out;
    }
}
