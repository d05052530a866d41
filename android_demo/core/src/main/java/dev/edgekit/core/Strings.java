package dev.edgekit.core;

/** Small string helpers that Android API 24 lacks (String.join arrived in API 26). */
final class Strings {
    private Strings() {}

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
}
