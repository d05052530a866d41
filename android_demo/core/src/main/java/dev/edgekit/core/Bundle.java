package dev.edgekit.core;

import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A loaded bundle: manifest, labels and tokenizer, once every bundle rule holds (docs/contracts.md,
 * "Validation"; the same rules, in the same order, as the Python reader's {@code Bundle.open}):
 * the manifest's rules ({@link ManifestRules}), then its files — each one named is inside the bundle
 * and present, each model file has the manifest's size, {@code vocab.txt} has
 * {@code tokenizer.vocab_size} entries and the manifest's sha256, {@code labels.txt} (when present)
 * equals the manifest's labels. {@link #verify} adds a mode file's sha256 before the model is loaded.
 * Each violation is a {@link BundleException} of one line naming the bundle, with the rule's code.
 */
public final class Bundle {
    public static final String MANIFEST = "manifest.json";
    public static final String LABELS = "labels.txt";

    public final Manifest manifest;
    public final List<String> labels;
    public final WordPieceTokenizer tokenizer;
    public final BundleSource source;
    /** "bundle &lt;where&gt;", the start of every message. */
    private final String where;

    private Bundle(Manifest manifest, WordPieceTokenizer tokenizer, BundleSource source, String where) {
        this.manifest = manifest;
        this.labels = manifest.labels;
        this.tokenizer = tokenizer;
        this.source = source;
        this.where = where;
    }

    /** The bundle of {@code source} once every rule holds; a {@link BundleException} naming the first that does not. */
    public static Bundle load(BundleSource source) throws BundleException {
        String where = "bundle " + source.describe();
        Map<String, Object> raw = Manifest.json(readManifest(source, where), where + ": " + MANIFEST);
        Problem.check(where, ManifestRules.problems(raw));
        Problem.check(where, fileProblems(source, raw, where));
        Manifest manifest = Manifest.typed(raw, where);
        WordPieceTokenizer tokenizer;
        try {
            tokenizer = new WordPieceTokenizer(vocab(source.readBytes(manifest.vocabFile)), manifest.tokenizerSettings);
        } catch (IOException e) {
            throw new BundleException("file_missing", where + ": cannot read " + Problem.show(manifest.vocabFile) + ": "
                + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new BundleException("missing_field", where + ": tokenizer settings do not load (" + e.getMessage() + ")", e);
        }
        return new Bundle(manifest, tokenizer, source, where);
    }

    /**
     * Mode {@code mode}'s file against the manifest: present, the manifest's size and sha256 — a
     * truncated or changed copy fails here (codes modes, file_missing, file_size, sha256). Reads the
     * whole file: call it once before loading the model.
     */
    public void verify(String mode) throws BundleException {
        Manifest.Mode entry = manifest.modes.get(mode);
        if (entry == null) {
            throw new BundleException("modes", where + " has no mode " + mode + "; it has " + Strings.join(", ", manifest.modeNames()));
        }
        String file = Problem.show(entry.file);
        try {
            if (!source.exists(entry.file)) {
                throw new BundleException("file_missing", where + ": mode " + mode + ": missing " + file);
            }
            long size = source.size(entry.file);
            if (size != entry.bytes) {
                throw new BundleException("file_size", where + ": mode " + mode + ": " + file + " has " + size
                    + " bytes, the manifest says " + entry.bytes + " (truncated or replaced)");
            }
            if (!source.sha256(entry.file).equals(entry.sha256)) {
                throw new BundleException("sha256", where + ": mode " + mode + ": " + file
                    + " differs from the manifest's sha256 (corrupt or changed after conversion)");
            }
        } catch (IOException e) {
            throw new BundleException("file_missing", where + ": mode " + mode + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String readManifest(BundleSource source, String where) throws BundleException {
        try {
            return utf8(source.readBytes(MANIFEST));
        } catch (FileNotFoundException e) {
            throw new BundleException("manifest", where + ": no " + MANIFEST + " (copy a bundle with `edgekit android-assets`)");
        } catch (CharacterCodingException e) {
            throw new BundleException("manifest", where + ": " + MANIFEST + " is not UTF-8 text");
        } catch (IOException e) {
            throw new BundleException("manifest", where + ": cannot read " + MANIFEST + ": " + e.getMessage(), e);
        }
    }

    /** The bundle's files against its (rule-abiding) manifest; cheap checks, no model file is hashed here. */
    @SuppressWarnings("unchecked")
    private static List<Problem> fileProblems(BundleSource source, Map<String, Object> m, String where) throws BundleException {
        try {
            for (Map.Entry<String, Object> f : ManifestRules.files(m).entrySet()) {
                String name = (String) f.getValue();
                if (!source.inside(name)) {
                    return problem("path", f.getKey() + " " + Problem.show(name) + " leaves the bundle (a link pointing outside)");
                }
                if (!source.exists(name)) return problem("file_missing", f.getKey() + " " + Problem.show(name) + " is missing");
            }
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m.get("modes")).entrySet()) {
                Map<String, Object> entry = (Map<String, Object>) e.getValue();
                String file = (String) entry.get("file");
                long size = source.size(file);
                long bytes = ((Number) entry.get("bytes")).longValue();
                if (size != bytes) {
                    return problem("file_size", "mode " + e.getKey() + ": " + Problem.show(file) + " has " + size
                        + " bytes, the manifest says " + bytes + " (truncated or replaced)");
                }
            }
            Map<String, Object> tok = (Map<String, Object>) m.get("tokenizer");
            String vocabFile = (String) tok.get("vocab_file");
            byte[] vocabBytes = source.readBytes(vocabFile);
            int entries;
            try {
                entries = vocab(vocabBytes).size();
            } catch (CharacterCodingException e) {
                return problem("sha256", Problem.show(vocabFile) + " is not UTF-8 (not the file the model was converted with)");
            }
            long size = ((Number) tok.get("vocab_size")).longValue();
            if (entries != size) {
                return problem("vocab_size", Problem.show(vocabFile) + " has " + entries + " entries, the manifest and model " + size);
            }
            if (!Sha256.of(vocabBytes).equals(tok.get("vocab_sha256"))) {
                return problem("sha256", Problem.show(vocabFile) + " differs from the vocabulary the model was converted with (sha256)");
            }
            if (source.exists(LABELS)) {
                List<String> labels;
                try {
                    labels = Manifest.parseLabels(utf8(source.readBytes(LABELS)));
                } catch (CharacterCodingException e) {
                    labels = null;
                }
                if (!m.get("labels").equals(labels)) {
                    return problem("labels_file", LABELS + " " + Problem.show(labels) + " differs from the manifest labels "
                        + Problem.show(m.get("labels")));
                }
            }
            return Collections.emptyList();
        } catch (IOException e) {
            throw new BundleException("file_missing", where + ": cannot read a file of the bundle: " + e.getMessage(), e);
        }
    }

    private static List<Problem> problem(String code, String message) {
        return Collections.singletonList(new Problem(code, message));
    }

    /** vocab.txt's tokens as {@link WordPieceTokenizer#loadVocab} reads them, from bytes that must be UTF-8. */
    private static List<String> vocab(byte[] bytes) throws IOException {
        utf8(bytes);
        return WordPieceTokenizer.loadVocab(new ByteArrayInputStream(bytes));
    }

    /** Strict UTF-8: malformed bytes are an error, not U+FFFD. */
    private static String utf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
    }
}
