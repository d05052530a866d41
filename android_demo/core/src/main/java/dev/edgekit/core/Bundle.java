package dev.edgekit.core;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** A loaded bundle: manifest, labels (checked against the manifest) and its tokenizer. */
public final class Bundle {
    public static final String MANIFEST = "manifest.json";
    public static final String LABELS = "labels.txt";

    public final Manifest manifest;
    public final List<String> labels;
    public final WordPieceTokenizer tokenizer;
    public final BundleSource source;

    private Bundle(Manifest manifest, List<String> labels, WordPieceTokenizer tokenizer, BundleSource source) {
        this.manifest = manifest;
        this.labels = labels;
        this.tokenizer = tokenizer;
        this.source = source;
    }

    public static Bundle load(BundleSource source) throws BundleException {
        String where = source.describe();
        Manifest manifest;
        try {
            manifest = Manifest.parse(source.readText(MANIFEST));
        } catch (FileNotFoundException e) {
            throw new BundleException(where + ": no " + MANIFEST + " (copy a bundle with `edgekit android-assets`)");
        } catch (IOException e) {
            throw new BundleException(where + ": cannot read " + MANIFEST + ": " + e.getMessage(), e);
        } catch (BundleException e) {
            throw new BundleException(where + "/" + e.getMessage(), e);
        }
        List<String> labels;
        try {
            labels = Manifest.parseLabels(source.readText(LABELS));
        } catch (IOException e) {
            throw new BundleException(where + ": cannot read " + LABELS + ": " + e.getMessage(), e);
        }
        if (!labels.equals(manifest.labels)) {
            throw new BundleException(where + ": " + LABELS + " " + labels + " differs from manifest labels " + manifest.labels);
        }
        List<String> vocab;
        try (InputStream in = source.open(manifest.vocabFile)) {
            vocab = WordPieceTokenizer.loadVocab(in);
        } catch (IOException e) {
            throw new BundleException(where + ": cannot read vocab " + manifest.vocabFile + ": " + e.getMessage(), e);
        }
        WordPieceTokenizer tokenizer;
        try {
            tokenizer = new WordPieceTokenizer(vocab, manifest.tokenizerSettings);
        } catch (IllegalArgumentException e) {
            throw new BundleException(where + "/" + manifest.vocabFile + ": " + e.getMessage(), e);
        }
        return new Bundle(manifest, labels, tokenizer, source);
    }
}
