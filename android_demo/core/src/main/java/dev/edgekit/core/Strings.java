package dev.edgekit.core;

import java.util.ArrayList;
import java.util.List;

/** Small string helpers: what Android API 24 lacks (String.join arrived in API 26) and Python's text rules. */
final class Strings {
    private Strings() {}

    /** The characters Python's {@code str.splitlines} breaks lines at. */
    private static final String BREAKS = "\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029";
    /** A line boundary: "\r\n" or one of {@link #BREAKS}. */
    private static final String LINE_BREAK = "\r\n|[" + BREAKS + "]";

    static String join(String sep, Iterable<? extends CharSequence> parts) {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (CharSequence p : parts) {
            if (!first) sb.append(sep);
            sb.append(p);
            first = false;
        }
        return sb.toString();
    }

    /** Python's {@code str.isspace} for one character. */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** Python's {@code str.strip()}: whitespace (as {@link #isSpace}) off both ends. */
    static String strip(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isSpace(s.charAt(start))) start++;
        while (end > start && isSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** Python's {@code str.splitlines()}: no line breaks kept, no empty last line after a final break. */
    static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split(LINE_BREAK, -1)) out.add(line);
        if (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) out.remove(out.size() - 1);
        return out;
    }

    /** {@code s} on one line: each of Python's line boundaries written as a {@code \\uXXXX} escape. */
    static String oneLine(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (BREAKS.indexOf(c) >= 0) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
