package dev.edgekit.core;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import org.junit.Test;

/** Per-character normalisation and character classes against Python's unicodedata. */
public class CharTableTest {
    @Test
    public void everyCharacterNormalisesAndClassifiesLikePython() throws Exception {
        WordPieceTokenizer tok = Golden.tokenizer();
        List<Object> rows = Json.asList(Golden.json("chars_golden.json").get("chars"), "chars");
        assertTrue(rows.size() > 1000);
        List<String> failures = new ArrayList<>();
        for (Object o : rows) {
            List<Object> row = Json.asList(o, "row");
            int cp = (int) Json.asLong(row.get(0), "cp");
            String expected = (String) row.get(1);
            String flags = (String) row.get(2);
            String ch = new String(Character.toChars(cp));
            String got = tok.normalize(ch);
            String gotFlags = (WordPieceTokenizer.isControl(cp) ? "C" : "") + (WordPieceTokenizer.isWhitespace(cp) ? "W" : "")
                + (WordPieceTokenizer.isPunctuation(cp) ? "P" : "") + (WordPieceTokenizer.isCjk(cp) ? "J" : "");
            if (!got.equals(expected)) failures.add(String.format("U+%04X normalize %s != %s", cp, Json.write(got), Json.write(expected)));
            if (!gotFlags.equals(flags)) failures.add(String.format("U+%04X flags %s != %s", cp, gotFlags, flags));
        }
        if (!failures.isEmpty()) fail(failures.size() + " character mismatches: " + failures.subList(0, Math.min(10, failures.size())));
        System.out.println("golden characters: " + rows.size() + " code points matched");
    }
}
