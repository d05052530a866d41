package dev.edgekit.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict JSON (RFC 8259) reader and writer: no third-party libraries on the device.
 *
 * <p>Parsing gives {@link LinkedHashMap} (key order kept), {@link ArrayList}, {@link String},
 * {@link Long} (integers without fraction or exponent that fit), {@link Double}, {@link Boolean}
 * and {@code null}. Writing accepts those plus any {@link Number}, {@link Collection} and
 * primitive arrays; non-finite doubles are written as {@code null} (JSON has no NaN).
 */
public final class Json {
    private Json() {}

    // ------------------------------------------------------------------ reading

    /** Parses one JSON value; trailing non-space characters are an error. */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object value = p.value();
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the JSON value");
        }
        return value;
    }

    /** Parses a JSON object (anything else is an error). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new JsonException("expected a JSON object at the top level");
        }
        return (Map<String, Object>) value;
    }

    /** Thrown for malformed JSON or a value of the wrong type. */
    public static final class JsonException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public JsonException(String message) {
            super(message);
        }
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        JsonException error(String what) {
            int line = 1;
            int col = 1;
            for (int i = 0; i < pos && i < s.length(); i++) {
                if (s.charAt(i) == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            return new JsonException("invalid JSON at line " + line + " column " + col + ": " + what);
        }

        void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object value() {
            if (pos >= s.length()) {
                throw error("unexpected end of input");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                case 't':
                    literal("true");
                    return Boolean.TRUE;
                case 'f':
                    literal("false");
                    return Boolean.FALSE;
                case 'n':
                    literal("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character '" + c + "'");
            }
        }

        void literal(String word) {
            if (!s.startsWith(word, pos)) {
                throw error("expected " + word);
            }
            pos += word.length();
        }

        Map<String, Object> object() {
            Map<String, Object> out = new LinkedHashMap<>();
            pos++; // {
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return out;
            }
            while (true) {
                skipSpace();
                if (pos >= s.length() || s.charAt(pos) != '"') {
                    throw error("expected a string key");
                }
                String key = string();
                skipSpace();
                if (pos >= s.length() || s.charAt(pos) != ':') {
                    throw error("expected ':'");
                }
                pos++;
                skipSpace();
                out.put(key, value());
                skipSpace();
                if (pos >= s.length()) {
                    throw error("unterminated object");
                }
                char c = s.charAt(pos++);
                if (c == '}') {
                    return out;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        List<Object> array() {
            List<Object> out = new ArrayList<>();
            pos++; // [
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return out;
            }
            while (true) {
                skipSpace();
                out.add(value());
                skipSpace();
                if (pos >= s.length()) {
                    throw error("unterminated array");
                }
                char c = s.charAt(pos++);
                if (c == ']') {
                    return out;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        String string() {
            pos++; // opening quote
            StringBuilder out = new StringBuilder();
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos++);
                if (c == '"') {
                    return out.toString();
                }
                if (c < 0x20) {
                    pos--;
                    throw error("control character in string");
                }
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                if (pos >= s.length()) {
                    throw error("unterminated escape");
                }
                char e = s.charAt(pos++);
                switch (e) {
                    case '"': out.append('"'); break;
                    case '\\': out.append('\\'); break;
                    case '/': out.append('/'); break;
                    case 'b': out.append('\b'); break;
                    case 'f': out.append('\f'); break;
                    case 'n': out.append('\n'); break;
                    case 'r': out.append('\r'); break;
                    case 't': out.append('\t'); break;
                    case 'u':
                        if (pos + 4 > s.length()) {
                            throw error("short \\u escape");
                        }
                        try {
                            out.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                        break;
                    default:
                        pos--;
                        throw error("bad escape '\\" + e + "'");
                }
            }
        }

        Object number() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            if (pos >= s.length()) {
                throw error("bad number");
            }
            if (s.charAt(pos) == '0') {
                pos++;
            } else if (isDigit()) {
                while (isDigit()) pos++;
            } else {
                throw error("bad number");
            }
            boolean integral = true;
            if (pos < s.length() && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                if (!isDigit()) throw error("digit expected after '.'");
                while (isDigit()) pos++;
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) pos++;
                if (!isDigit()) throw error("digit expected in exponent");
                while (isDigit()) pos++;
            }
            String num = s.substring(start, pos);
            if (integral) {
                try {
                    return Long.parseLong(num);
                } catch (NumberFormatException tooBig) {
                    return Double.parseDouble(num);
                }
            }
            return Double.parseDouble(num);
        }

        boolean isDigit() {
            return pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9';
        }
    }

    // ------------------------------------------------------------------ typed access

    /** Follows a dotted path ("a.b.c") through nested objects; null when a step is missing. */
    @SuppressWarnings("unchecked")
    public static Object path(Object root, String dotted) {
        Object cur = root;
        for (String part : dotted.split("\\.")) {
            if (!(cur instanceof Map) || !((Map<String, Object>) cur).containsKey(part)) {
                return null;
            }
            cur = ((Map<String, Object>) cur).get(part);
        }
        return cur;
    }

    /** True when every step of the dotted path exists (the value itself may be null). */
    @SuppressWarnings("unchecked")
    public static boolean has(Object root, String dotted) {
        Object cur = root;
        for (String part : dotted.split("\\.")) {
            if (!(cur instanceof Map) || !((Map<String, Object>) cur).containsKey(part)) {
                return false;
            }
            cur = ((Map<String, Object>) cur).get(part);
        }
        return true;
    }

    /** The dotted paths of {@code required} that are absent from {@code root}, in order. */
    public static List<String> missing(Object root, Collection<String> required) {
        List<String> out = new ArrayList<>();
        for (String p : required) {
            if (!has(root, p)) out.add(p);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object v, String what) {
        if (v instanceof Map) return (Map<String, Object>) v;
        throw new JsonException(what + ": expected an object");
    }

    @SuppressWarnings("unchecked")
    public static List<Object> asList(Object v, String what) {
        if (v instanceof List) return (List<Object>) v;
        throw new JsonException(what + ": expected a list");
    }

    public static String asString(Object v, String what) {
        if (v instanceof String) return (String) v;
        throw new JsonException(what + ": expected a string");
    }

    public static long asLong(Object v, String what) {
        if (v instanceof Long || v instanceof Integer) return ((Number) v).longValue();
        if (v instanceof Double && ((Double) v) == Math.rint((Double) v)) return ((Double) v).longValue();
        throw new JsonException(what + ": expected an integer");
    }

    public static double asDouble(Object v, String what) {
        if (v instanceof Number) return ((Number) v).doubleValue();
        throw new JsonException(what + ": expected a number");
    }

    public static boolean asBoolean(Object v, String what) {
        if (v instanceof Boolean) return (Boolean) v;
        throw new JsonException(what + ": expected true or false");
    }

    // ------------------------------------------------------------------ writing

    /** Compact JSON. */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, -1, 0);
        return sb.toString();
    }

    /** Pretty JSON with {@code indent} spaces per level and a trailing newline. */
    public static String writePretty(Object value, int indent) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, 0);
        return sb.append('\n').toString();
    }

    private static void newline(StringBuilder sb, int indent, int depth) {
        if (indent < 0) return;
        sb.append('\n');
        for (int i = 0; i < indent * depth; i++) sb.append(' ');
    }

    @SuppressWarnings("unchecked")
    private static void write(StringBuilder sb, Object v, int indent, int depth) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String) {
            quote(sb, (String) v);
        } else if (v instanceof Boolean) {
            sb.append(v.toString());
        } else if (v instanceof Double || v instanceof Float) {
            sb.append(formatDouble(((Number) v).doubleValue()));
        } else if (v instanceof Number) {
            sb.append(((Number) v).longValue());
        } else if (v instanceof Map) {
            Map<Object, Object> m = (Map<Object, Object>) v;
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<Object, Object> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                newline(sb, indent, depth + 1);
                quote(sb, String.valueOf(e.getKey()));
                sb.append(indent < 0 ? ":" : ": ");
                write(sb, e.getValue(), indent, depth + 1);
            }
            newline(sb, indent, depth);
            sb.append('}');
        } else if (v instanceof Collection) {
            writeList(sb, new ArrayList<>((Collection<Object>) v), indent, depth);
        } else if (v instanceof int[]) {
            List<Object> l = new ArrayList<>();
            for (int x : (int[]) v) l.add(x);
            writeList(sb, l, indent, depth);
        } else if (v instanceof long[]) {
            List<Object> l = new ArrayList<>();
            for (long x : (long[]) v) l.add(x);
            writeList(sb, l, indent, depth);
        } else if (v instanceof double[]) {
            List<Object> l = new ArrayList<>();
            for (double x : (double[]) v) l.add(x);
            writeList(sb, l, indent, depth);
        } else if (v instanceof float[]) {
            List<Object> l = new ArrayList<>();
            for (float x : (float[]) v) l.add((double) x);
            writeList(sb, l, indent, depth);
        } else if (v instanceof int[][]) {
            List<Object> l = new ArrayList<>();
            for (int[] row : (int[][]) v) l.add(row);
            writeList(sb, l, indent, depth);
        } else {
            throw new JsonException("cannot write a " + v.getClass().getName() + " as JSON");
        }
    }

    private static void writeList(StringBuilder sb, List<Object> l, int indent, int depth) {
        if (l.isEmpty()) {
            sb.append("[]");
            return;
        }
        // lists of scalars stay on one line: confusion matrices and id lists stay readable
        boolean scalars = true;
        for (Object x : l) {
            if (x instanceof Map || x instanceof Collection || (x != null && x.getClass().isArray())) {
                scalars = false;
                break;
            }
        }
        sb.append('[');
        for (int i = 0; i < l.size(); i++) {
            if (i > 0) sb.append(scalars && indent >= 0 ? ", " : ",");
            if (!scalars) newline(sb, indent, depth + 1);
            write(sb, l.get(i), indent, depth + 1);
        }
        if (!scalars) newline(sb, indent, depth);
        sb.append(']');
    }

    static String formatDouble(double d) {
        // JSON has no NaN/Infinity; Double.toString round-trips exactly ("1.0E-5" is valid JSON)
        if (Double.isNaN(d) || Double.isInfinite(d)) return "null";
        return Double.toString(d);
    }

    /** Appends {@code s} as a JSON string literal (non-ASCII kept as is: the output is UTF-8). */
    public static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c) && !validSurrogateAt(s, i)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    private static boolean validSurrogateAt(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
