package dev.edgekit.core;

/** A bundle, eval set or asset that cannot be used; the message is one line a user can act on. */
public class BundleException extends Exception {
    private static final long serialVersionUID = 1L;

    public BundleException(String message) {
        super(message);
    }

    public BundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
