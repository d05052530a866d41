package dev.edgekit.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Loads the golden fixtures written by {@code edgekit android golden} (test resources). */
final class Golden {
    private Golden() {}

    static InputStream open(String name) {
        InputStream in = Golden.class.getResourceAsStream("/golden/" + name);
        if (in == null) {
            throw new IllegalStateException("golden fixture /golden/" + name + " not on the classpath; run `edgekit android golden`");
        }
        return in;
    }

    static String text(String name) throws IOException {
        try (InputStream in = open(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Map<String, Object> json(String name) throws IOException {
        return Json.parseObject(text(name));
    }

    static WordPieceTokenizer tokenizer() throws IOException {
        Map<String, Object> header = json("tokenizer_golden.json");
        List<String> vocab;
        try (InputStream in = open((String) header.get("vocab_file"))) {
            vocab = WordPieceTokenizer.loadVocab(in);
        }
        return new WordPieceTokenizer(vocab, WordPieceTokenizer.Settings.fromJson(Json.asObject(header.get("settings"), "settings")));
    }

    static int[] ints(Object list) {
        List<Object> l = Json.asList(list, "ints");
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = (int) Json.asLong(l.get(i), "int");
        return out;
    }

    static double[] doubles(Object list) {
        List<Object> l = Json.asList(list, "doubles");
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = Json.asDouble(l.get(i), "double");
        return out;
    }

    /** |a - b| within 1e-9 relative (numpy sums pairwise, Java left to right). */
    static boolean close(double a, double b) {
        return Math.abs(a - b) <= 1e-9 * Math.max(1.0, Math.max(Math.abs(a), Math.abs(b)));
    }
}
