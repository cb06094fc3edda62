package io.cairn.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * Writes response bodies with Jackson's generator, so stored documents (already JSON text) are
 * embedded as they are, without parsing them again. Not thread-safe; one per response.
 */
final class JsonOut implements AutoCloseable {
    private static final JsonFactory FACTORY = new JsonFactory();

    private final StringWriter out = new StringWriter(256);
    private final JsonGenerator g;

    JsonOut() {
        try {
            g = FACTORY.createGenerator(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** Runs {@code body} against a fresh generator and returns the text it wrote. */
    static String write(Body body) {
        try (JsonOut o = new JsonOut()) {
            body.write(o.g);
            o.g.flush();
            return o.out.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        g.close();
    }
}
