package dev.edgekit.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.BeforeClass;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The bundle rules on every load, against the Python reader: each golden broken bundle
 * ({@code edgekit/bundlecases.py}, the file {@code tests/test_bundle_rules.py} runs the Python reader on)
 * fails {@link Bundle#load} or {@link Bundle#verify} with its rule's code and one line naming the
 * bundle; the valid ones load. Each case runs from a directory and from an in-memory source (which
 * uses {@link BundleSource}'s default methods, as the app's asset source does).
 */
public class BundleRulesTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static Map<String, Object> golden;
    private static List<Map<String, Object>> cases;

    @BeforeClass
    public static void load() throws Exception {
        golden = Golden.json("bundles_golden.json");
        cases = new ArrayList<>();
        for (Object c : Json.asList(golden.get("cases"), "cases")) cases.add(Json.asObject(c, "case"));
    }

    /** A case's files: relative name → UTF-8 bytes of its text. */
    private static Map<String, byte[]> files(Map<String, Object> c) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> f : Json.asObject(c.get("files"), "files").entrySet()) {
            out.put(f.getKey(), Json.asString(f.getValue(), f.getKey()).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    private File write(Map<String, Object> c) throws IOException {
        File dir = tmp.newFolder((String) c.get("name"));
        for (Map.Entry<String, byte[]> f : files(c).entrySet()) {
            File file = new File(dir, f.getKey());
            file.getParentFile().mkdirs();
            Files.write(file.toPath(), f.getValue());
        }
        return dir;
    }

    /** A bundle held in memory: every method but open and describe is BundleSource's default. */
    private static BundleSource memory(String name, Map<String, byte[]> files) {
        return new BundleSource() {
            @Override
            public InputStream open(String file) throws IOException {
                byte[] data = files.get(file);
                if (data == null) throw new FileNotFoundException(file);
                return new ByteArrayInputStream(data);
            }

            @Override
            public String describe() {
                return "memory:" + name;
            }
        };
    }

    /** What every reader does before it runs a mode: load, then each mode's sha256. */
    private static Bundle loadAndVerify(BundleSource source) throws BundleException {
        Bundle bundle = Bundle.load(source);
        for (String mode : bundle.manifest.modeNames()) bundle.verify(mode);
        return bundle;
    }

    /** Python's str.splitlines() boundaries: a message must have none. */
    private static void assertOneLine(String message) {
        for (char c : "\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029".toCharArray()) {
            assertTrue(message, message.indexOf(c) < 0);
        }
    }

    private static void check(Map<String, Object> c, BundleSource source) {
        String name = (String) c.get("name");
        Object expect = c.get("expect");
        try {
            Bundle bundle = loadAndVerify(source);
            assertEquals(name + " loads, the Python reader refuses it with " + expect, null, expect);
            assertEquals(List.of("negative", "neutral", "positive"), bundle.labels);
            assertEquals(bundle.manifest.vocabSize, bundle.tokenizer.vocabSize());
        } catch (BundleException e) {
            String message = e.getMessage();
            assertEquals(name + ": " + message, expect, e.code);
            assertTrue(name + ": " + message, message.startsWith("bundle " + source.describe() + ": ")
                || message.startsWith("bundle " + source.describe() + " "));
            assertOneLine(message);
        }
    }

    @Test
    public void eachGoldenCaseGetsItsRulesCodeFromADirectory() throws Exception {
        assertTrue(cases.size() > 30);
        for (Map<String, Object> c : cases) check(c, BundleSource.directory(write(c)));
    }

    @Test
    public void eachGoldenCaseGetsItsRulesCodeFromMemory() {
        for (Map<String, Object> c : cases) check(c, memory((String) c.get("name"), files(c)));
    }

    @Test
    public void theCodesAreThePythonReadersAndEachHasACase() {
        List<String> python = new ArrayList<>(Json.asObject(golden.get("codes"), "codes").keySet());
        assertEquals("a rule code without its Java counterpart (or the reverse)", python, Problem.CODES);
        Set<Object> expected = new LinkedHashSet<>();
        for (Map<String, Object> c : cases) expected.add(c.get("expect"));
        expected.remove(null);
        assertEquals(Set.copyOf(Problem.CODES), expected);
    }

    private Map<String, Object> valid() {
        for (Map<String, Object> c : cases) if ("valid".equals(c.get("name"))) return c;
        throw new AssertionError("no valid case");
    }

    @Test
    public void aLinkOutOfTheBundleIsRefused() throws Exception {
        File dir = write(valid());
        File outside = new File(tmp.getRoot(), "elsewhere.tflite");
        Files.move(new File(dir, "model_fp32.tflite").toPath(), outside.toPath());
        Files.createSymbolicLink(new File(dir, "model_fp32.tflite").toPath(), outside.toPath());
        try {
            Bundle.load(BundleSource.directory(dir));
            fail();
        } catch (BundleException e) {
            assertEquals("path", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("leaves the bundle"));
        }
    }

    @Test
    public void verifyNamesAnUnknownModeAndAFileChangedAfterLoading() throws Exception {
        File dir = write(valid());
        Bundle bundle = Bundle.load(BundleSource.directory(dir));
        try {
            bundle.verify("int4");
            fail();
        } catch (BundleException e) {
            assertEquals("modes", e.code);
            assertTrue(e.getMessage(), e.getMessage().contains("has no mode int4; it has fp32, dynamic_int8"));
        }
        Files.delete(new File(dir, "model_dynamic_int8.tflite").toPath());
        try {
            bundle.verify("dynamic_int8");
            fail();
        } catch (BundleException e) {
            assertEquals("file_missing", e.code);
        }
        bundle.verify("fp32");
    }

    @Test
    public void aNameWithALineBreakStaysOnOneLine() throws Exception {
        Map<String, byte[]> files = files(valid());
        Map<String, Object> manifest = Json.parseObject(new String(files.get(Bundle.MANIFEST), StandardCharsets.UTF_8));
        Json.asObject(Json.path(manifest, "modes.fp32"), "fp32").put("file", "model\nfp32.tflite");
        files.put(Bundle.MANIFEST, Json.write(manifest).getBytes(StandardCharsets.UTF_8));
        try {
            Bundle.load(memory("broken\nname", files));
            fail();
        } catch (BundleException e) {
            assertEquals("path", e.code);  // a control character in a file name
            assertOneLine(e.getMessage());
            assertTrue(e.getMessage(), e.getMessage().contains("model\\nfp32.tflite"));
        }
    }

    @Test
    public void nonUtf8TextIsRefused() throws Exception {
        Map<String, byte[]> files = files(valid());
        files.put("labels.txt", new byte[] {'n', 'e', 'g', (byte) 0xff, '\n'});
        assertCode("labels_file", files);
        files = files(valid());
        byte[] vocab = files.get("vocab.txt");
        vocab[0] = (byte) 0xc3; // '[' of "[PAD]" becomes the start of a two-byte sequence that never ends
        assertCode("sha256", files);
        files = files(valid());
        files.put(Bundle.MANIFEST, new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'});
        assertCode("manifest", files);
    }

    private static void assertCode(String code, Map<String, byte[]> files) {
        try {
            Bundle.load(memory("x", files));
            fail("loads; expected " + code);
        } catch (BundleException e) {
            assertEquals(e.getMessage(), code, e.code);
            assertNotNull(e.getMessage());
            assertFalse(e.getMessage().isEmpty());
        }
    }
}
