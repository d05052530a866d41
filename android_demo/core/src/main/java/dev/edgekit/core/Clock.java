package dev.edgekit.core;

/** Monotonic time source (System.nanoTime on a device; a fake in tests). */
public interface Clock {
    long nanoTime();

    Clock SYSTEM = System::nanoTime;

    static double millisBetween(long startNanos, long endNanos) {
        return (endNanos - startNanos) / 1e6;
    }
}
