package dev.edgekit.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** JSON, the classifier pipeline, cancellation and the device helpers. */
public class CoreTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void jsonRoundTrip() {
        String text = "{\"a\": [1, -2.5, 3e2, true, false, null], \"s\": \"q\\\"\\\\\\n\\t\\u00e9\\ud83d\\udcc8\", \"o\": {}}";
        Map<String, Object> m = Json.parseObject(text);
        List<Object> a = Json.asList(m.get("a"), "a");
        assertEquals(1L, a.get(0));
        assertEquals(-2.5, a.get(1));
        assertEquals(300.0, a.get(2));
        assertEquals(Boolean.TRUE, a.get(3));
        assertEquals(null, a.get(5));
        assertEquals("q\"\\\n\té\uD83D\uDCC8", m.get("s"));
        assertEquals(m, Json.parseObject(Json.write(m)));
        assertEquals(m, Json.parseObject(Json.writePretty(m, 2)));
        assertEquals("[null,1.5]", Json.write(new double[] {Double.NaN, 1.5}));
        assertEquals("\"\\u0001\\u2028\"", Json.write("\u0001\u2028"));
    }

    @Test
    public void jsonErrorsSayWhere() {
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "tru", "{} x", "1.", "\"a\nb\""}) {
            try {
                Json.parse(bad);
                fail("accepted " + bad);
            } catch (Json.JsonException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON at line "));
            }
        }
    }

    @Test
    public void classifierPicksTheSmallestBucketThatFits() throws Exception {
        File dir = TestBundles.write(tmp.newFolder("b"), TestBundles.exampleManifest(), List.of("negative", "neutral", "positive"));
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        TestBundles.FakeRunner runner = new TestBundles.FakeRunner(3);
        TextClassifier c = new TextClassifier(bundle, bundle.manifest.mode("fp32"), runner, new TestBundles.StepClock());
        TextClassifier.Prediction p = c.classify("Profit rose 5 %.");
        assertEquals("seq16", runner.lastSignature);
        assertEquals(16, runner.lastLength);
        assertEquals(16, p.bucket.length);
        assertEquals(bundle.tokenizer.countTokens("Profit rose 5 %."), p.numTokens);
        assertEquals(1.0, p.tokenizeMs, 0.0);
        assertEquals(1.0, p.inferenceMs, 0.0);
        double sum = 0;
        for (double x : p.probabilities) sum += x;
        assertEquals(1.0, sum, 1e-12);
        assertEquals(bundle.labels.get(Stats.argmax(p.logits)), p.label);
        TextClassifier.Prediction longOne = c.classify("word ".repeat(200));
        assertEquals("seq128", runner.lastSignature);
        assertTrue(longOne.truncated());
        c.close();
        assertTrue(runner.closed);
    }

    @Test
    public void wrongNumberOfLogitsIsAClearError() throws Exception {
        File dir = TestBundles.write(tmp.newFolder("b"), TestBundles.exampleManifest(), List.of("negative", "neutral", "positive"));
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        TextClassifier c = new TextClassifier(bundle, bundle.manifest.mode("fp32"), new TestBundles.FakeRunner(2));
        try {
            c.classify("x");
            fail();
        } catch (BundleException e) {
            assertEquals("label_count", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("returned 2 logits for 3 labels"));
        }
    }

    @Test
    public void benchmarkCanBeCancelledAndClosesTheModel() throws Exception {
        File dir = TestBundles.write(tmp.newFolder("b"), TestBundles.exampleManifest(), List.of("negative", "neutral", "positive"));
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        EvalSet eval = EvalSet.parseJsonl("{\"text\":\"a\",\"label\":\"neutral\"}\n{\"text\":\"b\",\"label\":\"positive\"}\n",
            bundle.labels, "eval.jsonl");
        TestBundles.FakeRunner runner = new TestBundles.FakeRunner(3);
        int[] seen = {0};
        try {
            Benchmark.run(bundle, "fp32", 1, eval, (b, m, t) -> runner, Clock.SYSTEM, (d, n, p) -> seen[0] = d, () -> seen[0] >= 1);
            fail();
        } catch (CancellationException expected) {
            assertEquals(1, seen[0]);
            assertTrue(runner.closed);
        }
        try {
            Benchmark.run(bundle, "int4", 1, eval, (b, m, t) -> runner, Clock.SYSTEM, null, null);
            fail();
        } catch (BundleException e) {
            assertEquals("modes", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("has no mode int4"));
        }
    }

    @Test
    public void benchmarkVerifiesTheModeFileBeforeLoadingIt() throws Exception {
        File dir = TestBundles.write(tmp.newFolder("b"), TestBundles.exampleManifest(), List.of("negative", "neutral", "positive"));
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        EvalSet eval = EvalSet.parseJsonl("{\"text\":\"a\",\"label\":\"neutral\"}\n", bundle.labels, "eval.jsonl");
        File model = new File(dir, bundle.manifest.mode("fp16").file);
        byte[] data = Files.readAllBytes(model.toPath());
        data[0] ^= 1; // same size, other bytes
        Files.write(model.toPath(), data);
        int[] opened = {0};
        try {
            Benchmark.run(bundle, "fp16", 1, eval, (b, m, t) -> {
                opened[0]++;
                return new TestBundles.FakeRunner(3);
            }, Clock.SYSTEM, null, null);
            fail();
        } catch (BundleException e) {
            assertEquals("sha256", e.code);
            assertEquals(0, opened[0]);
        }
    }

    @Test
    public void deviceHelpersParseProcFiles() {
        assertEquals("Qualcomm Technologies, Inc SM8550",
            DeviceInfo.cpuModelFromCpuinfo("processor\t: 0\nCPU part\t: 0xd46\n\nHardware\t: Qualcomm Technologies, Inc SM8550\n"));
        assertEquals("implementer 0x41 part 0xd0b",
            DeviceInfo.cpuModelFromCpuinfo("processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0b\n"));
        assertEquals("Intel(R) Xeon(R)", DeviceInfo.cpuModelFromCpuinfo("model name\t: Intel(R) Xeon(R)\n"));
        assertEquals(180.5, DeviceInfo.peakRssMbFromStatus("Name:\tx\nVmHWM:\t  184832 kB\nVmRSS:\t 1 kB\n"), 1e-12);
        assertEquals(-1.0, DeviceInfo.peakRssMbFromStatus("Name:\tx\n"), 0.0);
        Map<String, Object> m = new DeviceInfo().toMap();
        assertEquals("android", m.get("target"));
        assertEquals(Boolean.FALSE, m.get("emulated"));
    }

    @Test
    public void labelsFileParsing() {
        assertEquals(List.of("a", "b"), Manifest.parseLabels("a\r\nb\n\n"));
        // as Python reads labels.txt: str.splitlines(), each line str.strip()ped, blank lines skipped
        assertEquals(List.of("a", "b c", "d"), Manifest.parseLabels("\n  a \n\n\tb c\u00a0\u2028d\r"));
        assertArrayEquals(new int[] {2, 0}, new int[] {Stats.argmax(new float[] {0, 1, 5}), Stats.argmax(new float[] {3, 3})});
    }
}
