package dev.edgekit.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * BERT WordPiece tokenizer: a line-for-line port of {@code edgekit/tokenizer/wordpiece.py}.
 *
 * <p>Normalisation in the same order as the Python (and Hugging Face) one: clean text (drop NUL,
 * U+FFFD and control characters, map white space to ' '), space out CJK ideographs, NFD and drop
 * non-spacing marks (Mn), lower-case per code point (no context-dependent final sigma). Then split
 * on white space and isolate each punctuation character, then greedy longest-match-first
 * WordPiece with the {@code ##} prefix; a word longer than {@code maxInputCharsPerWord} code
 * points, or one with no match, becomes {@code [UNK]}. Special tokens written literally in the
 * text ({@code [CLS]}, ...) are kept whole. All lengths count Unicode code points, as Python does.
 *
 * <p>Not thread-safe (a word cache); give each thread its own instance or synchronise.
 */
public final class WordPieceTokenizer {

    /** The tokenizer settings a bundle manifest records ({@code manifest.tokenizer}). */
    public static final class Settings {
        public boolean lowerCase = true;
        /** null: follow {@link #lowerCase}, as in Hugging Face and the Python tokenizer. */
        public Boolean stripAccents = null;
        public boolean cleanText = true;
        public boolean handleChineseChars = true;
        public int maxInputCharsPerWord = 100;
        public String continuingSubwordPrefix = "##";
        public String unkToken = "[UNK]";
        public String clsToken = "[CLS]";
        public String sepToken = "[SEP]";
        public String padToken = "[PAD]";
        public String maskToken = "[MASK]";

        /** Reads the manifest's {@code tokenizer} object; absent keys keep their defaults. */
        public static Settings fromJson(Map<String, Object> t) {
            Settings s = new Settings();
            if (t.get("lower_case") != null) s.lowerCase = Json.asBoolean(t.get("lower_case"), "tokenizer.lower_case");
            if (t.get("strip_accents") != null) s.stripAccents = Json.asBoolean(t.get("strip_accents"), "tokenizer.strip_accents");
            if (t.get("clean_text") != null) s.cleanText = Json.asBoolean(t.get("clean_text"), "tokenizer.clean_text");
            if (t.get("handle_chinese_chars") != null) {
                s.handleChineseChars = Json.asBoolean(t.get("handle_chinese_chars"), "tokenizer.handle_chinese_chars");
            }
            if (t.get("max_input_chars_per_word") != null) {
                s.maxInputCharsPerWord = (int) Json.asLong(t.get("max_input_chars_per_word"), "tokenizer.max_input_chars_per_word");
            }
            if (t.get("continuing_subword_prefix") != null) {
                s.continuingSubwordPrefix = Json.asString(t.get("continuing_subword_prefix"), "tokenizer.continuing_subword_prefix");
            }
            Object sp = t.get("special_tokens");
            if (sp != null) {
                Map<String, Object> m = Json.asObject(sp, "tokenizer.special_tokens");
                if (m.get("unk") != null) s.unkToken = Json.asString(m.get("unk"), "special_tokens.unk");
                if (m.get("cls") != null) s.clsToken = Json.asString(m.get("cls"), "special_tokens.cls");
                if (m.get("sep") != null) s.sepToken = Json.asString(m.get("sep"), "special_tokens.sep");
                if (m.get("pad") != null) s.padToken = Json.asString(m.get("pad"), "special_tokens.pad");
                if (m.get("mask") != null) s.maskToken = Json.asString(m.get("mask"), "special_tokens.mask");
            }
            return s;
        }
    }

    /** One encoded text: {@code ids}, {@code mask}, {@code segmentIds} of {@code maxLength} each. */
    public static final class Encoding {
        public final int[] ids;
        public final int[] mask;
        public final int[] segmentIds;
        /** True length with [CLS] and [SEP] before truncation: picks the length bucket. */
        public final int numTokens;
        /** The kept tokens, [CLS] ... [SEP], without padding. */
        public final List<String> tokens;

        Encoding(int[] ids, int[] mask, int[] segmentIds, int numTokens, List<String> tokens) {
            this.ids = ids;
            this.mask = mask;
            this.segmentIds = segmentIds;
            this.numTokens = numTokens;
            this.tokens = tokens;
        }

        public boolean truncated() {
            return numTokens > ids.length;
        }
    }

    private static final int CACHE_LIMIT = 200_000;

    private final List<String> vocab;
    private final Map<String, Integer> tokenToId;
    private final boolean lowerCase;
    private final boolean stripAccents;
    private final boolean cleanText;
    private final boolean handleChineseChars;
    private final int maxInputCharsPerWord;
    private final String prefix;
    private final String unkToken;
    private final String clsToken;
    private final String sepToken;
    private final int unkId;
    private final int padId;
    private final Pattern specialPattern;
    private final Map<String, List<String>> cache = new HashMap<>();

    public WordPieceTokenizer(List<String> vocab, Settings settings) {
        this.vocab = Collections.unmodifiableList(new ArrayList<>(vocab));
        this.tokenToId = new HashMap<>(vocab.size() * 2);
        for (int i = 0; i < vocab.size(); i++) {
            tokenToId.put(vocab.get(i), i); // a duplicated token keeps its last id, as in Python
        }
        this.lowerCase = settings.lowerCase;
        this.stripAccents = settings.stripAccents == null ? settings.lowerCase : settings.stripAccents;
        this.cleanText = settings.cleanText;
        this.handleChineseChars = settings.handleChineseChars;
        this.maxInputCharsPerWord = settings.maxInputCharsPerWord;
        this.prefix = settings.continuingSubwordPrefix;
        this.unkToken = settings.unkToken;
        this.clsToken = settings.clsToken;
        this.sepToken = settings.sepToken;
        for (String name : Arrays.asList(settings.unkToken, settings.clsToken, settings.sepToken, settings.padToken)) {
            if (!tokenToId.containsKey(name)) {
                throw new IllegalArgumentException("vocabulary has no " + name + " token");
            }
        }
        this.unkId = tokenToId.get(settings.unkToken);
        this.padId = tokenToId.get(settings.padToken);
        StringBuilder alt = new StringBuilder();
        for (String t : Arrays.asList(settings.padToken, settings.unkToken, settings.clsToken, settings.sepToken, settings.maskToken)) {
            if (!tokenToId.containsKey(t)) continue;
            if (alt.length() > 0) alt.append('|');
            alt.append(Pattern.quote(t));
        }
        this.specialPattern = Pattern.compile(alt.toString());
    }

    public WordPieceTokenizer(List<String> vocab) {
        this(vocab, new Settings());
    }

    /** One token per line, the line number is the id; trailing empty lines dropped (as Python). */
    public static List<String> loadVocab(InputStream in) throws IOException {
        List<String> tokens = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                tokens.add(line);
            }
        }
        while (!tokens.isEmpty() && tokens.get(tokens.size() - 1).isEmpty()) {
            tokens.remove(tokens.size() - 1);
        }
        return tokens;
    }

    public int vocabSize() {
        return vocab.size();
    }

    public List<String> vocab() {
        return vocab;
    }

    public int padId() {
        return padId;
    }

    public int unkId() {
        return unkId;
    }

    // ------------------------------------------------------------------ character classes

    /** Python's {@code str.isspace()} set (Unicode 14): Zs plus bidi classes WS, B and S. */
    private static final int[] PY_SPACES = {
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    };

    static boolean isWhitespace(int cp) {
        return Arrays.binarySearch(PY_SPACES, cp) >= 0;
    }

    /** Category C* (Cc, Cf, Cs, Co, Cn) except tab, newline and carriage return. */
    static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') return false;
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
                return true;
            default:
                return false;
        }
    }

    /** ASCII non-alphanumeric symbols, or category P* (Pc, Pd, Ps, Pe, Pi, Pf, Po). */
    static boolean isPunctuation(int cp) {
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.CONNECTOR_PUNCTUATION:
            case Character.DASH_PUNCTUATION:
            case Character.START_PUNCTUATION:
            case Character.END_PUNCTUATION:
            case Character.INITIAL_QUOTE_PUNCTUATION:
            case Character.FINAL_QUOTE_PUNCTUATION:
            case Character.OTHER_PUNCTUATION:
                return true;
            default:
                return false;
        }
    }

    static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF)
            || (cp >= 0x3400 && cp <= 0x4DBF)
            || (cp >= 0x20000 && cp <= 0x2A6DF)
            || (cp >= 0x2A700 && cp <= 0x2B73F)
            || (cp >= 0x2B740 && cp <= 0x2B81F)
            || (cp >= 0x2B820 && cp <= 0x2CEAF)
            || (cp >= 0xF900 && cp <= 0xFAFF)
            || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    // ------------------------------------------------------------------ normalisation

    public String normalize(String text) {
        if (cleanText) {
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                if (cp == 0 || cp == 0xFFFD || isControl(cp)) continue;
                if (isWhitespace(cp)) {
                    out.append(' ');
                } else {
                    out.appendCodePoint(cp);
                }
            }
            text = out.toString();
        }
        if (handleChineseChars) {
            StringBuilder out = new StringBuilder(text.length() + 8);
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                if (isCjk(cp)) {
                    out.append(' ').appendCodePoint(cp).append(' ');
                } else {
                    out.appendCodePoint(cp);
                }
            }
            text = out.toString();
        }
        if (stripAccents) {
            String nfd = Normalizer.normalize(text, Normalizer.Form.NFD);
            StringBuilder out = new StringBuilder(nfd.length());
            for (int i = 0; i < nfd.length(); ) {
                int cp = nfd.codePointAt(i);
                i += Character.charCount(cp);
                if (Character.getType(cp) != Character.NON_SPACING_MARK) out.appendCodePoint(cp);
            }
            text = out.toString();
        }
        if (lowerCase) {
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                int n = Character.charCount(cp);
                if (cp < 0x80) {
                    out.append((cp >= 'A' && cp <= 'Z') ? (char) (cp + 32) : (char) cp);
                } else {
                    // one code point at a time: full case mapping (İ -> i̇) without final-sigma context
                    out.append(text.substring(i, i + n).toLowerCase(Locale.ROOT));
                }
                i += n;
            }
            text = out.toString();
        }
        return text;
    }

    /** Splits on white space and isolates every punctuation character. */
    public static List<String> preTokenize(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhitespace(cp)) {
                if (current.length() > 0) {
                    words.add(current.toString());
                    current.setLength(0);
                }
            } else if (isPunctuation(cp)) {
                if (current.length() > 0) {
                    words.add(current.toString());
                    current.setLength(0);
                }
                words.add(new String(Character.toChars(cp)));
            } else {
                current.appendCodePoint(cp);
            }
        }
        if (current.length() > 0) words.add(current.toString());
        return words;
    }

    /** Greedy longest-match-first WordPiece of one pre-tokenized word. */
    public List<String> wordpiece(String word) {
        List<String> cached = cache.get(word);
        if (cached != null) return cached;
        int[] cps = word.codePoints().toArray();
        List<String> pieces = new ArrayList<>();
        if (cps.length > maxInputCharsPerWord) {
            pieces.add(unkToken);
        } else {
            int start = 0;
            while (start < cps.length) {
                int end = cps.length;
                String match = null;
                while (start < end) {
                    String piece = new String(cps, start, end - start);
                    if (start > 0) piece = prefix + piece;
                    if (tokenToId.containsKey(piece)) {
                        match = piece;
                        break;
                    }
                    end--;
                }
                if (match == null) {
                    pieces.clear();
                    pieces.add(unkToken);
                    break;
                }
                pieces.add(match);
                start = end;
            }
        }
        List<String> result = Collections.unmodifiableList(pieces);
        if (cache.size() < CACHE_LIMIT) cache.put(word, result);
        return result;
    }

    // ------------------------------------------------------------------ public API

    public List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        Matcher m = specialPattern.matcher(text);
        int last = 0;
        while (m.find()) {
            tokenizePlain(text.substring(last, m.start()), tokens);
            tokens.add(m.group());
            last = m.end();
        }
        tokenizePlain(text.substring(last), tokens);
        return tokens;
    }

    private void tokenizePlain(String part, List<String> out) {
        if (part.isEmpty()) return;
        for (String word : preTokenize(normalize(part))) {
            out.addAll(wordpiece(word));
        }
    }

    public int[] convertTokensToIds(List<String> tokens) {
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = tokenToId.get(tokens.get(i));
            ids[i] = id == null ? unkId : id;
        }
        return ids;
    }

    /** Length with [CLS] and [SEP]: what a sentence needs to fit a bucket untruncated. */
    public int countTokens(String text) {
        return tokenize(text).size() + 2;
    }

    public Encoding encode(String text, int maxLength) {
        return encodeTokens(tokenize(text), maxLength);
    }

    /** Encodes already tokenized text (lets a caller tokenize once, then pick the bucket). */
    public Encoding encodeTokens(List<String> tokens, int maxLength) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 ([CLS] and [SEP])");
        }
        int numTokens = tokens.size() + 2;
        List<String> kept = new ArrayList<>(Math.min(numTokens, maxLength));
        kept.add(clsToken);
        kept.addAll(tokens.subList(0, Math.min(tokens.size(), maxLength - 2)));
        kept.add(sepToken);
        int[] keptIds = convertTokensToIds(kept);
        int[] ids = new int[maxLength];
        int[] mask = new int[maxLength];
        Arrays.fill(ids, padId);
        System.arraycopy(keptIds, 0, ids, 0, keptIds.length);
        Arrays.fill(mask, 0, keptIds.length, 1);
        return new Encoding(ids, mask, new int[maxLength], numTokens, Collections.unmodifiableList(kept));
    }
}
