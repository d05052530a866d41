package dev.edgekit.core;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Where a bundle's files come from: Android assets in the app, a directory in tests. */
public interface BundleSource {
    /** Opens {@code name} (a path relative to the bundle root). */
    InputStream open(String name) throws IOException;

    /** A human-readable location, for messages. */
    String describe();

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
        };
    }
}
