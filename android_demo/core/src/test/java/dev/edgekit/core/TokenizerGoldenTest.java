package dev.edgekit.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/** Every golden sentence must tokenize and encode exactly as the Python tokenizer did. */
public class TokenizerGoldenTest {
    private static WordPieceTokenizer tok;
    private static Map<String, Object> golden;
    private static List<Object> cases;

    @BeforeClass
    public static void load() throws Exception {
        tok = Golden.tokenizer();
        golden = Golden.json("tokenizer_golden.json");
        cases = Json.asList(golden.get("cases"), "cases");
    }

    @Test
    public void fixtureHasSeveralHundredSentences() {
        assertTrue("golden sentences: " + cases.size(), cases.size() >= 300);
        assertEquals(Json.asLong(golden.get("count"), "count"), cases.size());
        assertEquals(Json.asLong(golden.get("vocab_size"), "vocab_size"), tok.vocabSize());
    }

    @Test
    public void allGoldenVectorsMatch() {
        List<String> failures = new ArrayList<>();
        int vectors = 0;
        for (Object o : cases) {
            Map<String, Object> c = Json.asObject(o, "case");
            String text = (String) c.get("text");
            List<String> expectedTokens = new ArrayList<>();
            for (Object t : Json.asList(c.get("tokens"), "tokens")) expectedTokens.add((String) t);
            List<String> tokens = tok.tokenize(text);
            if (!tokens.equals(expectedTokens)) {
                failures.add(Json.write(text) + ": tokens " + tokens + " != " + expectedTokens);
                continue;
            }
            int numTokens = (int) Json.asLong(c.get("num_tokens"), "num_tokens");
            if (tok.countTokens(text) != numTokens) failures.add(Json.write(text) + ": countTokens");
            for (Map.Entry<String, Object> e : Json.asObject(c.get("encodings"), "encodings").entrySet()) {
                int length = Integer.parseInt(e.getKey());
                Map<String, Object> exp = Json.asObject(e.getValue(), "encoding");
                WordPieceTokenizer.Encoding enc = tok.encode(text, length);
                vectors++;
                if (!Arrays.equals(enc.ids, Golden.ints(exp.get("ids")))) {
                    failures.add(Json.write(text) + " @" + length + ": ids " + Arrays.toString(enc.ids));
                } else if (!Arrays.equals(enc.mask, Golden.ints(exp.get("mask")))) {
                    failures.add(Json.write(text) + " @" + length + ": mask " + Arrays.toString(enc.mask));
                } else if (!Arrays.equals(enc.segmentIds, new int[length])) {
                    failures.add(Json.write(text) + " @" + length + ": segment ids not all 0");
                } else if (enc.numTokens != numTokens || enc.truncated() != (numTokens > length)) {
                    failures.add(Json.write(text) + " @" + length + ": numTokens " + enc.numTokens);
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " golden mismatches, first: " + failures.subList(0, Math.min(5, failures.size())));
        }
        System.out.println("golden tokenizer: " + cases.size() + " sentences, " + vectors + " encodings matched");
    }

    @Test
    public void literalSpecialTokensStayWhole() {
        assertEquals(Arrays.asList("[CLS]", "[SEP]"), tok.tokenize("[CLS] [SEP]"));
        assertEquals("[", tok.tokenize("[cls]").get(0));
    }

    @Test
    public void overLongWordIsUnknown() {
        char[] a = new char[101];
        Arrays.fill(a, 'a');
        assertEquals(Arrays.asList("[UNK]"), tok.tokenize(new String(a)));
    }

    @Test(expected = IllegalArgumentException.class)
    public void maxLengthBelowTwoIsRejected() {
        tok.encode("x", 1);
    }

    @Test(expected = IllegalArgumentException.class)
    public void vocabWithoutSpecialsIsRejected() {
        new WordPieceTokenizer(Arrays.asList("a", "b"));
    }
}
