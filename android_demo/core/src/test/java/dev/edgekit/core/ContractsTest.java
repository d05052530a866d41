package dev.edgekit.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The bundle manifest and the result record against edgekit.contracts (via the fixture). */
public class ContractsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static Map<String, Object> contracts;

    @BeforeClass
    public static void load() throws Exception {
        contracts = Golden.json("contracts_golden.json");
    }

    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object x : Json.asList(o, "list")) out.add((String) x);
        return out;
    }

    @Test
    public void manifestFieldListsMatchPython() {
        assertEquals(strings(contracts.get("manifest_required")), Manifest.REQUIRED);
        assertEquals(strings(contracts.get("mode_required")), Manifest.MODE_REQUIRED);
        assertEquals(strings(contracts.get("input_names")), Manifest.INPUT_NAMES);
        assertEquals(Json.asLong(contracts.get("manifest_schema_version"), "v"), Manifest.SCHEMA_VERSION);
        assertEquals(Json.asLong(contracts.get("result_schema_version"), "v"), ResultRecord.SCHEMA_VERSION);
    }

    @Test
    public void exampleManifestParses() throws Exception {
        Manifest m = Manifest.parse(Json.write(TestBundles.exampleManifest()));
        assertEquals("teacher", m.modelName);
        assertEquals("bert", m.family);
        assertEquals(List.of("negative", "neutral", "positive"), m.labels);
        assertEquals(List.of("fp32", "fp16", "dynamic_int8", "int8"), m.modeNames());
        assertEquals(4, m.buckets.size());
        assertEquals(16, m.buckets.get(0).length);
        assertEquals("seq128", m.buckets.get(3).signature);
        assertEquals("model_dynamic_int8.tflite", m.mode("dynamic_int8").file);
        assertEquals(23_000_000L, m.mode("dynamic_int8").bytes);
        assertEquals("logits", m.outputName);
        assertEquals("vocab.txt", m.vocabFile);
        assertEquals(30522L, m.embeddingRows);
        assertEquals(3, m.numClasses);
        assertEquals(30522L, m.vocabSize);
        assertEquals(64, m.vocabSha256.length());
        assertEquals(null, m.taskFile);
        assertTrue(m.tokenizerSettings.lowerCase);
        assertEquals(Boolean.TRUE, m.tokenizerSettings.stripAccents);
    }

    @Test
    public void everyMissingRequiredFieldIsReported() throws Exception {
        List<String> required = new ArrayList<>(Manifest.REQUIRED);
        required.addAll(ManifestRules.SCHEMA_ADDED.get((long) Manifest.SCHEMA_VERSION));
        assertTrue(required.contains("tokenizer.vocab_sha256"));
        for (String path : required) {
            Map<String, Object> m = TestBundles.exampleManifest();
            String[] parts = path.split("\\.");
            Map<String, Object> cur = m;
            for (int i = 0; i < parts.length - 1; i++) cur = Json.asObject(cur.get(parts[i]), parts[i]);
            cur.remove(parts[parts.length - 1]);
            try {
                Manifest.parse(Json.write(m));
                fail("no error without " + path);
            } catch (BundleException e) {
                // without a schema_version the manifest is of no version this app reads
                String expected = path.equals("schema_version") ? "schema_version null is not one" : "missing " + path;
                assertEquals(e.getMessage(), path.equals("schema_version") ? "schema_version" : "missing_field", e.code);
                assertTrue(e.getMessage(), e.getMessage().contains(expected));
            }
        }
    }

    @Test
    public void modeFieldsAndSchemaVersionAreChecked() throws Exception {
        Map<String, Object> m = TestBundles.exampleManifest();
        Json.asObject(Json.path(m, "modes.fp16"), "fp16").remove("sha256");
        Json.asObject(Json.path(m, "modes.int8"), "int8").put("bytes", -1L);
        List<Problem> problems = ManifestRules.problems(m);
        assertEquals("[modes: mode fp16: missing sha256, modes: mode int8: bytes must be a whole number]", problems.toString());
        m.put("schema_version", 1L);
        problems = ManifestRules.problems(m);
        assertEquals(1, problems.size());
        assertEquals("schema_version", problems.get(0).code);
        assertTrue(problems.toString(), problems.get(0).message.contains("convert the model again"));
        m.put("schema_version", 3L);
        assertTrue(ManifestRules.problems(m).get(0).message.contains("schema_version 3 is not one this app reads (2)"));
        m.put("schema_version", 2.0);
        assertEquals("schema_version", ManifestRules.problems(m).get(0).code);
        assertEquals("manifest", ManifestRules.problems(List.of(1, 2)).get(0).code);
    }

    @Test
    public void fileNamesMustStayInsideTheBundle() {
        for (String ok : new String[] {"vocab.txt", "sub/model.tflite", "sub/a:b", "x..y", ".hidden"}) {
            assertEquals(ok, null, ManifestRules.badFileName(ok));
        }
        for (Object bad : new Object[] {null, "", 5L, "/etc/passwd", "a\\b", "C:model.tflite", "c:/x", "../x", "a/../b",
            "a//b", "a/", "./a", "."}) {
            assertTrue(String.valueOf(bad), ManifestRules.badFileName(bad) != null);
        }
    }

    @Test
    public void malformedManifestIsOneClearError() {
        try {
            Manifest.parse("{\"schema_version\": 1,");
            fail();
        } catch (BundleException e) {
            assertEquals("manifest", e.code);
            assertTrue(e.getMessage(), e.getMessage().startsWith("manifest.json: invalid JSON"));
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    public void modeWithoutABucketSignatureIsRejected() throws Exception {
        Map<String, Object> m = TestBundles.exampleManifest();
        Json.asList(Json.path(m, "modes.int8.signatures"), "sigs").remove("seq64");
        try {
            Manifest.parse(Json.write(m));
            fail();
        } catch (BundleException e) {
            assertEquals("signatures", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("mode int8: lacks signatures [\"seq64\"]"));
        }
    }

    @Test
    public void fieldsTheReadersUseMustHaveTheirTypes() throws Exception {
        Map<String, Object> m = TestBundles.exampleManifest();
        Json.asObject(m.get("tokenizer"), "tokenizer").put("lower_case", "yes");
        try {
            Manifest.parse(Json.write(m));
            fail();
        } catch (BundleException e) {
            assertEquals("missing_field", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("tokenizer.lower_case has the wrong type"));
        }
    }

    @Test
    public void bucketChoiceMatchesPython() throws Exception {
        Map<String, Object> b = Json.asObject(contracts.get("buckets"), "buckets");
        Manifest m = Manifest.parse(Json.write(TestBundles.exampleManifest()));
        for (Object o : Json.asList(b.get("cases"), "cases")) {
            int[] c = Golden.ints(o);
            assertEquals("tokens " + c[0], c[1], m.chooseBucket(c[0]).length);
        }
        List<Manifest.Bucket> unsorted = new ArrayList<>(m.buckets);
        assertEquals(32, Manifest.chooseBucket(unsorted, 17).length);
    }

    @Test
    public void datasetHashMatchesPython() throws Exception {
        Map<String, Object> d = Json.asObject(contracts.get("dataset"), "dataset");
        EvalSet eval = EvalSet.parseJsonl((String) d.get("jsonl"), strings(d.get("labels")), "eval.jsonl");
        assertEquals(4, eval.size());
        assertEquals(d.get("sha256"), eval.sha256());
    }

    @Test
    public void evalWithUnknownLabelIsRejectedWithItsLine() {
        try {
            EvalSet.parseJsonl("{\"text\":\"a\",\"label\":\"neutral\"}\n{\"text\":\"b\",\"label\":\"bullish\"}\n",
                List.of("negative", "neutral", "positive"), "eval.jsonl");
            fail();
        } catch (BundleException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("eval.jsonl:2: label 'bullish'"));
        }
    }

    private Map<String, Object> benchmarkRecord() throws Exception {
        Map<String, Object> manifest = TestBundles.exampleManifest();
        List<String> labels = List.of("negative", "neutral", "positive");
        File dir = TestBundles.write(tmp.newFolder("bundle"), manifest, labels);
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        StringBuilder jsonl = new StringBuilder();
        String[] texts = {"Profit rose 5 %.", "Sales fell.", "The board met on Tuesday.", "Café Zürich €1,2m",
            "word ".repeat(40), "[CLS] special", "日本銀行", "xqzvbrt"};
        for (int i = 0; i < texts.length; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("text", texts[i]);
            row.put("label", labels.get(i % 3));
            jsonl.append(Json.write(row)).append('\n');
        }
        EvalSet eval = EvalSet.parseJsonl(jsonl.toString(), labels, "eval.jsonl");
        List<Integer> progress = new ArrayList<>();
        TestBundles.FakeRunner[] opened = new TestBundles.FakeRunner[1];
        Benchmark.Result r = Benchmark.run(bundle, "dynamic_int8", 2, eval,
            (b, mode, threads) -> opened[0] = new TestBundles.FakeRunner(b.labels.size()),
            new TestBundles.StepClock(), (done, total, p) -> progress.add(done), () -> false);
        assertEquals(texts.length, progress.size());
        assertTrue(opened[0].closed);
        assertEquals(texts.length + 1, opened[0].calls); // + the first (timed, uncounted) inference
        assertEquals(1.0, r.loadMs, 0.0);
        assertEquals(1.0, r.firstInferenceMs, 0.0);
        assertEquals(texts.length, r.inference.count);
        assertEquals(texts.length, r.report.n);
        DeviceInfo device = new DeviceInfo();
        device.arch = "aarch64";
        device.cpuModel = "Qualcomm Technologies, Inc SM8550";
        device.os = "Android 14 (API 34)";
        device.runtimeVersion = "2.3.0";
        ResultRecord.DatasetInfo ds = new ResultRecord.DatasetInfo();
        ds.name = "golden:test";
        ds.sha256 = eval.sha256();
        Map<String, Object> rec = ResultRecord.build(r, bundle, "assets/bundle", device, ds, new ResultRecord.EdgekitInfo(),
            181.5, 1795305600000L);
        return rec;
    }

    @Test
    public void resultRecordHasEveryRequiredField() throws Exception {
        Map<String, Object> rec = benchmarkRecord();
        List<String> required = strings(contracts.get("result_required"));
        assertTrue(required.size() > 20);
        assertEquals(List.of(), Json.missing(rec, required));
        // and it survives being written and read back
        Map<String, Object> back = Json.parseObject(Json.writePretty(rec, 2));
        assertEquals(List.of(), Json.missing(back, required));
        assertEquals("android", Json.path(back, "device.target"));
        assertEquals(Boolean.FALSE, Json.path(back, "device.emulated"));
        assertEquals("litert-android", Json.path(back, "device.runtime.name"));
        assertEquals("2.3.0", Json.path(back, "device.runtime.version"));
        assertEquals("edgekit-benchmark-result", back.get("kind"));
        assertEquals(1L, back.get("schema_version"));
        assertEquals("dynamic_int8", Json.path(back, "bundle.mode"));
        assertEquals(2L, back.get("threads"));
        assertEquals("2026-11-22T00:00:00Z", back.get("timestamp"));
        assertEquals(8L, Json.path(back, "timing_ms.inference.count"));
        assertEquals(1.0, (Double) Json.path(back, "timing_ms.inference.p50"), 0.0);
        Map<String, Object> buckets = Json.asObject(back.get("buckets_used"), "buckets_used");
        long total = 0;
        for (Object v : buckets.values()) total += (Long) v;
        assertEquals(8L, total);
        assertTrue(buckets.containsKey("16"));
        assertTrue(buckets.containsKey("64"));
        assertEquals("teacher_dynamic_int8_t2_20261122T000000.json", ResultRecord.fileName(rec));
    }

    @Test
    public void bundleLoadsFromADirectoryAndChecksLabels() throws Exception {
        Map<String, Object> manifest = TestBundles.exampleManifest();
        File dir = TestBundles.write(tmp.newFolder("b"), manifest, List.of("negative", "neutral", "positive"));
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        assertEquals(970, bundle.tokenizer.vocabSize());
        Files.writeString(new File(dir, "labels.txt").toPath(), "negative\npositive\nneutral\n");
        try {
            Bundle.load(BundleSource.directory(dir));
            fail();
        } catch (BundleException e) {
            assertEquals("labels_file", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("differs from the manifest labels"));
        }
        try {
            Bundle.load(BundleSource.directory(tmp.newFolder("empty")));
            fail();
        } catch (BundleException e) {
            assertEquals("manifest", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("no manifest.json"));
        }
    }
}
