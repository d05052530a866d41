package dev.edgekit.core;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/** Bundle directories for tests: the contract's example manifest, the golden vocab, labels, stand-in model files. */
final class TestBundles {
    private TestBundles() {}

    static Map<String, Object> exampleManifest() throws IOException {
        return Json.asObject(Golden.json("contracts_golden.json").get("example_manifest"), "example_manifest");
    }

    /**
     * A bundle every rule accepts, from {@code manifest} (e.g. the contract's example): the golden
     * vocab.txt, labels.txt and a few bytes standing in for each mode's model file, with the
     * manifest's vocab_size, vocab_sha256, bytes and sha256 set to match them.
     */
    static File write(File dir, Map<String, Object> manifest, List<String> labels) throws IOException {
        dir.mkdirs();
        Map<String, Object> m = Json.parseObject(Json.write(manifest));
        byte[] vocab = Golden.text("vocab.txt").getBytes(StandardCharsets.UTF_8);
        Map<String, Object> tok = Json.asObject(m.get("tokenizer"), "tokenizer");
        tok.put("vocab_size", (long) WordPieceTokenizer.loadVocab(new ByteArrayInputStream(vocab)).size());
        tok.put("vocab_sha256", Sha256.of(vocab));
        Files.write(new File(dir, "vocab.txt").toPath(), vocab);
        for (Map.Entry<String, Object> e : Json.asObject(m.get("modes"), "modes").entrySet()) {
            Map<String, Object> mode = Json.asObject(e.getValue(), e.getKey());
            byte[] model = ("not a real model: " + e.getKey() + "\n").getBytes(StandardCharsets.UTF_8);
            mode.put("bytes", (long) model.length);
            mode.put("sha256", Sha256.of(model));
            Files.write(new File(dir, Json.asString(mode.get("file"), "file")).toPath(), model);
        }
        Files.write(new File(dir, "manifest.json").toPath(), Json.writePretty(m, 2).getBytes(StandardCharsets.UTF_8));
        Files.write(new File(dir, "labels.txt").toPath(), (Strings.join("\n", labels) + "\n").getBytes(StandardCharsets.UTF_8));
        return dir;
    }

    /** A deterministic stand-in for a model: logits depend on the ids, the bucket and the mask. */
    static final class FakeRunner implements ModelRunner {
        final int numLabels;
        int calls;
        String lastSignature;
        int lastLength;
        boolean closed;

        FakeRunner(int numLabels) {
            this.numLabels = numLabels;
        }

        @Override
        public float[] run(String signature, int[] ids, int[] mask, int[] segmentIds) {
            calls++;
            lastSignature = signature;
            lastLength = ids.length;
            if (mask.length != ids.length || segmentIds.length != ids.length) throw new IllegalStateException("shapes");
            float[] out = new float[numLabels];
            for (int i = 0; i < ids.length; i++) {
                if (mask[i] == 0) continue;
                out[(ids[i] * 31 + i) % numLabels] += 1f;
            }
            return out;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** Advances one millisecond per reading. */
    static final class StepClock implements Clock {
        long now;

        @Override
        public long nanoTime() {
            now += 1_000_000L;
            return now;
        }
    }
}
