package dev.edgekit.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Where a bundle's files come from: Android assets in the app, a directory in tests. Names are the
 * manifest's, relative to the bundle root; {@link Bundle#load} refuses names that are not plain
 * relative paths before it asks a source for them.
 */
public interface BundleSource {
    /** Opens {@code name}; a {@link FileNotFoundException} when it is not there. */
    InputStream open(String name) throws IOException;

    /** A human-readable location, for messages. */
    String describe();

    /** Whether {@code name} is a file of the bundle (by default: whether it opens). */
    default boolean exists(String name) throws IOException {
        try {
            open(name).close();
            return true;
        } catch (FileNotFoundException e) {
            return false;
        }
    }

    /** {@code name}'s size in bytes (by default counted by reading it). */
    default long size(String name) throws IOException {
        try (InputStream in = open(name)) {
            byte[] buf = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) total += n;
            return total;
        }
    }

    /** False when {@code name} resolves outside the bundle (a link pointing out); true for sources without links. */
    default boolean inside(String name) throws IOException {
        return true;
    }

    /** {@code name}'s SHA-256 as lowercase hex, read in blocks. */
    default String sha256(String name) throws IOException {
        try (InputStream in = open(name)) {
            return Sha256.of(in);
        }
    }

    default byte[] readBytes(String name) throws IOException {
        try (InputStream in = open(name)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) out.write(buf, 0, n);
            return out.toByteArray();
        }
    }

    default String readText(String name) throws IOException {
        return new String(readBytes(name), StandardCharsets.UTF_8);
    }

    /** A bundle directory on a file system. */
    static BundleSource directory(File dir) {
        return new BundleSource() {
            @Override
            public InputStream open(String name) throws IOException {
                return new FileInputStream(new File(dir, name));
            }

            @Override
            public String describe() {
                return dir.getPath();
            }

            @Override
            public boolean exists(String name) {
                return new File(dir, name).isFile();
            }

            @Override
            public long size(String name) throws IOException {
                File f = new File(dir, name);
                if (!f.isFile()) throw new FileNotFoundException(f.getPath());
                return f.length();
            }

            @Override
            public boolean inside(String name) {
                try {
                    String root = dir.getCanonicalPath();
                    String prefix = root.endsWith(File.separator) ? root : root + File.separator;
                    return new File(dir, name).getCanonicalPath().startsWith(prefix);
                } catch (IOException e) { // a name the file system cannot resolve (a NUL, say) is not inside
                    return false;
                }
            }
        };
    }
}
