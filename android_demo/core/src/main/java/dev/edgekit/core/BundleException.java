package dev.edgekit.core;

/**
 * A bundle, eval set or asset that cannot be used; the message is one line a user can act on (a line
 * break in a name it quotes is written as an escape).
 *
 * <p>{@link #code} names the bundle rule broken (one of {@link Problem#CODES}, the same code the
 * Python reader reports); it is null for failures that are not a bundle rule (an eval set, an
 * asset, a model's output).
 */
public class BundleException extends Exception {
    private static final long serialVersionUID = 1L;

    public final String code;

    /** A broken bundle rule: {@code code} is one of {@link Problem#CODES}. */
    public BundleException(String code, String message) {
        this(code, message, null);
    }

    public BundleException(String code, String message, Throwable cause) {
        super(message == null ? null : Strings.oneLine(message), cause);
        if (code != null && !Problem.CODES.contains(code)) throw new IllegalArgumentException("unknown rule code " + code);
        this.code = code;
    }

    /** A failure that is not a bundle rule (code null). */
    public BundleException(String message) {
        this(null, message, null);
    }

    /** A failure that is not a bundle rule (code null). */
    public BundleException(String message, Throwable cause) {
        this(null, message, cause);
    }
}
