package io.cairn.api;

import com.fasterxml.jackson.core.JsonGenerator;
import io.cairn.node.CairnNode;
import io.cairn.store.CairnException;
import io.cairn.store.Change;
import io.cairn.store.ChangePage;
import io.cairn.store.ErrorCode;
import io.cairn.store.Validation;
import io.cairn.store.Versioned;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Change streams (API.md, "Change streams"): the WebSocket {@code GET /v1/changes} and its
 * long-poll twin. Every subscriber reads from the store's change history with its own cursor, so
 * the server holds no per-subscriber queue: a subscriber whose socket is not writable simply stops
 * reading, and is caught up from history when it drains. A cursor older than the kept history gets
 * the {@code compacted} error, never a silent gap. New applied revisions wake the subscribers of
 * each event loop once per batch, not once per subscriber.
 *
 * <p>Subscribers with the same filter get the same bytes: the frames of a page are encoded once per
 * filter (by Netty's WebSocket encoder) and written to each subscriber's channel as one shared
 * buffer, one write and one flush per subscriber per page instead of one per change. Going through
 * Vert.x's {@code writeTextMessage} cost a UTF-8 encoding, a frame, two promises and a pipeline pass
 * per change and per subscriber: the node's event loops were saturated at ~200k frames/s (JFR).
 */
public final class ChangeStreams {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ChangeStreams.class);
    private static final String WRITABILITY_HANDLER = "cairn-changes-writable";
    /** Bytes of encoded pages a group delivery keeps to share between subscribers with the same filter. */
    static final long SHARED_PAGE_BYTES_MAX = 16 << 20;
    /**
     * Longest frame sent; longer messages go in continuation frames, as Vert.x's own write does.
     * Vert.x's default (64 KiB) is what its clients accept unless told otherwise.
     */
    static final int FRAME_BYTES_MAX = io.vertx.core.http.HttpServerOptions.DEFAULT_MAX_WEBSOCKET_FRAME_SIZE;
    /** Pages each event loop keeps for subscribers that lag a little (each at most pageBytesMax). */
    static final int PAGES_CACHED = 8;
    /** Most changes read for one subscriber at a time. */
    static final int PAGE_LIMIT = 200;
    /** Bytes a WebSocket may have queued before the subscriber stops reading history. */
    static final int WRITE_QUEUE_BYTES_MAX = 64 << 10;
    /** Subscribers served in one event-loop task before the loop yields to other work (HTTP requests). */
    static final int DELIVERIES_PER_TASK = 64;
    static final int LONG_POLL_LIMIT_MAX = 10_000;
    static final long LONG_POLL_WAIT_MILLIS_MAX = 60_000;
    static final int SUBSCRIBERS_MAX = 100_000;
    static final short CLOSE_COMPACTED = 4410;
    /** RFC 6455 7.4.1: a text message that is not UTF-8. */
    static final short CLOSE_INVALID_TEXT = 1007;
    static final long RETRY_MILLIS = 100;

    private final CairnNode node;
    private final long progressMillis;
    private final AtomicLong applied = new AtomicLong();
    /** The subscribers of each event loop, and whether a wake-up is already queued there. */
    private final Map<Context, Loop> loops = new ConcurrentHashMap<>();
    private final AtomicLong subscriberCount = new AtomicLong();
    private final AtomicLong historyReads = new AtomicLong();

    public ChangeStreams(CairnNode node, long progressMillis) {
        this.node = node;
        this.progressMillis = progressMillis;
        this.applied.set(node.appliedIndex());
    }

    /** Event loops serving subscribers now, and history reads made for them so far (tests, metrics). */
    public int loopsInUse() {
        return loops.size();
    }

    public long historyReads() {
        return historyReads.get();
    }

    /** Called by the state machine (any thread) after it applied up to {@code index}. */
    public void onApplied(long index) {
        applied.accumulateAndGet(index, Math::max);
        for (Loop loop : loops.values()) loop.wakeSoon();
    }

    // ------------------------------------------------------------------ HTTP entry

    /** Serves {@code GET /v1/changes}: a WebSocket upgrade, or a long poll. */
    public Future<ApiResponse> handle(RoutingContext ctx) {
        Filter filter = Filter.of(ctx);
        String upgrade = ctx.request().getHeader("Upgrade");
        if (upgrade != null && upgrade.equalsIgnoreCase("websocket")) {
            if (subscriberCount.get() >= SUBSCRIBERS_MAX) {
                throw new CairnException(ErrorCode.NOT_READY, "too many change-stream subscribers on this node");
            }
            Long after = optionalLong(ctx, "after");
            Channel channel = channelOf(ctx);
            ctx.request().toWebSocket()
                    .onSuccess(ws -> subscribe(ws, channel, filter, after))
                    .onFailure(e -> log.warn("WebSocket upgrade of {} failed: {}", ctx.request().uri(), e.toString()));
            return Future.succeededFuture(null);
        }
        return longPoll(ctx, filter);
    }

    /**
     * The Netty channel under the request, which stays the WebSocket's after the upgrade. Vert.x
     * offers no public way to it; its connection class does. Without it there is no change stream:
     * a clear error rather than a slow path nothing tests.
     */
    private static Channel channelOf(RoutingContext ctx) {
        if (ctx.request().connection() instanceof io.vertx.core.net.impl.ConnectionBase c) return c.channel();
        throw new CairnException(ErrorCode.INTERNAL, "change streams need Vert.x's connection class, not "
                + ctx.request().connection().getClass().getName());
    }

    private Future<ApiResponse> longPoll(RoutingContext ctx, Filter filter) {
        Long after = optionalLong(ctx, "after");
        int limit = (int) HttpApi.longParam(ctx, "limit", 100, 1, LONG_POLL_LIMIT_MAX);
        long waitMs = HttpApi.longParam(ctx, "waitMs", 0, 0, LONG_POLL_WAIT_MILLIS_MAX);
        return poll(after, limit, waitMs, filter);
    }

    /**
     * One long-poll page: changes with rev > {@code after} (null: from now), waiting up to
     * {@code waitMs} when there are none yet. The answer's {@code rev} is where to resume.
     */
    public Future<ApiResponse> poll(Long afterOrNull, int limit, long waitMs, String collection, String key, boolean prev) {
        if (limit < 1 || limit > LONG_POLL_LIMIT_MAX) {
            throw new CairnException(ErrorCode.BAD_REQUEST, "limit must be in 1.." + LONG_POLL_LIMIT_MAX);
        }
        if (waitMs < 0 || waitMs > LONG_POLL_WAIT_MILLIS_MAX) {
            throw new CairnException(ErrorCode.BAD_REQUEST, "waitMs must be in 0.." + LONG_POLL_WAIT_MILLIS_MAX);
        }
        if (afterOrNull != null && afterOrNull < 0) throw new CairnException(ErrorCode.BAD_REQUEST, "after must be >= 0");
        return poll(afterOrNull, limit, waitMs, Filter.of(collection, key, prev));
    }

    private Future<ApiResponse> poll(Long afterOrNull, int limit, long waitMs, Filter filter) {
        long after = afterOrNull == null ? node.appliedIndex() : afterOrNull;
        return page(after, limit, filter).compose(p -> {
            if (!p.value().changes().isEmpty() || waitMs == 0) return Future.succeededFuture(p);
            return node.awaitAppliedWithin(p.value().resumeRev() + 1, waitMs)
                    .compose(reached -> reached ? page(after, limit, filter) : Future.succeededFuture(p));
        }).map(p -> ApiResponse.json(200, JsonOut.write(g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("changes");
            for (Change c : p.value().changes()) change(g, c, filter.prev);
            g.writeEndArray();
            g.writeNumberField("rev", p.value().resumeRev());
            g.writeEndObject();
        }), p.appliedRev()));
    }

    private Future<Versioned<ChangePage>> page(long after, int limit, Filter f) {
        return node.read(s -> s.changes(after, limit, f.collection, f.key));
    }

    // ------------------------------------------------------------------ WebSocket subscribers

    private void subscribe(ServerWebSocket ws, Channel channel, Filter filter, Long after) {
        // Keyed by the event loop's own context: a request runs on a duplicate of it (one per
        // request), and a loop per duplicate would share nothing and never go away.
        Context context = ((io.vertx.core.internal.ContextInternal) Vertx.currentContext()).unwrap();
        Loop loop = loops.computeIfAbsent(context, c -> new Loop(c));
        Subscriber s = new Subscriber(ws, channel, filter, after == null ? node.appliedIndex() : after, loop);
        subscriberCount.incrementAndGet();
        loop.subscribers.add(s);
        ws.setWriteQueueMaxSize(WRITE_QUEUE_BYTES_MAX); // the channel's high-water mark
        channel.pipeline().addFirst(WRITABILITY_HANDLER, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext c) {
                if (c.channel().isWritable()) s.pump();
                c.fireChannelWritabilityChanged();
            }
        });
        ws.closeHandler(v -> s.close());
        ws.exceptionHandler(e -> {
            // a frame Netty refused (unmasked, reserved bits or opcode, too long): Vert.x closes the
            // connection right after this handler, so say why first (RFC 6455 7.1.7)
            if (e instanceof CorruptedWebSocketFrameException c && !s.closed) {
                String why = c.getMessage() == null || c.getMessage().length() > 100 ? c.closeStatus().reasonText() : c.getMessage();
                ws.close((short) c.closeStatus().code(), why);
            }
            s.close();
        });
        // Clients have nothing to say; frames they send are dropped once checked. Nothing decodes
        // their text, so neither Netty nor Vert.x checks its UTF-8: that is done here.
        TextCheck text = new TextCheck();
        ws.frameHandler(frame -> {
            if (!s.closed && !text.accept(frame)) {
                ws.close(CLOSE_INVALID_TEXT, "a text message that is not UTF-8");
                s.close();
            }
        });
        s.pump();
    }

    /**
     * Whether the text messages of a client are UTF-8 (RFC 6455 8.1), checked frame by frame as they
     * come (a character may span frames), without keeping the messages. The decoder is made at the
     * first text frame: most subscribers never send one.
     */
    static final class TextCheck {
        private static final ByteBuffer NONE = ByteBuffer.allocate(0);
        private CharsetDecoder utf8; // reports malformed input
        private CharBuffer sink;
        private ByteBuffer carry = NONE;
        private boolean inText;

        /** False when {@code frame} makes the text message it belongs to invalid UTF-8. */
        boolean accept(WebSocketFrame frame) {
            if (frame.isText()) {
                if (utf8 == null) {
                    utf8 = StandardCharsets.UTF_8.newDecoder();
                    sink = CharBuffer.allocate(256);
                }
                utf8.reset();
                inText = true;
                carry = NONE;
            } else if (frame.isBinary()) {
                inText = false;
            }
            if (!inText || !(frame.isText() || frame.isContinuation())) return true;
            boolean last = frame.isFinal();
            byte[] bytes = frame.binaryData().getBytes();
            ByteBuffer in = ByteBuffer.allocate(carry.remaining() + bytes.length).put(carry).put(bytes).flip();
            CoderResult r;
            do {
                sink.clear();
                r = utf8.decode(in, sink, last);
            } while (r.isOverflow());
            if (r.isError()) return false;
            carry = last ? NONE : in.slice(); // the start of a character the next frame ends
            if (last) inText = false;
            return true;
        }
    }

    /** The subscribers of one event loop. Touched only on that loop, except {@link #wakeSoon}. */
    private final class Loop {
        final Context context;
        final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicBoolean wakeQueued = new java.util.concurrent.atomic.AtomicBoolean();
        /** Pages read (or being read) by cursor, the latest {@link #PAGES_CACHED}: bounded memory per loop. */
        final java.util.Map<Long, Future<Page>> pages = new java.util.LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Future<Page>> eldest) {
                return size() > PAGES_CACHED;
            }
        };

        /** Netty's WebSocket encoder (server side: unmasked), used by this loop alone. */
        final EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket08FrameEncoder(false));

        Loop(Context context) {
            this.context = context;
            context.owner().setPeriodic(Math.max(100, progressMillis / 5), t -> progressTick());
        }

        void wakeSoon() {
            if (subscribers.isEmpty() || !wakeQueued.compareAndSet(false, true)) return;
            context.runOnContext(v -> {
                wakeQueued.set(false);
                pumpAll();
            });
        }

        /**
         * Every read of the history goes through here: subscribers at the same cursor share one
         * read (caught-up subscribers all sit at the same cursor, and all move to the same next
         * cursor), filtered for each in memory. The last few pages stay cached, so a subscriber
         * that was skipped for a moment (its socket was full) reads its page from memory. One
         * SQLite read per batch of applies per event loop, however many subscribers there are.
         */
        void pumpAll() {
            long head = applied.get();
            java.util.Map<Long, java.util.List<Subscriber>> groups = new java.util.HashMap<>();
            for (Subscriber s : subscribers) {
                if (s.closed || s.reading || !s.channel.isWritable()) continue;
                if (s.cursor < head) groups.computeIfAbsent(s.cursor, k -> new java.util.ArrayList<>()).add(s);
                else if (!s.sentAny) s.sendProgress(System.nanoTime());
            }
            for (var group : groups.entrySet()) read(group.getKey(), group.getValue());
        }

        private void read(long cursor, java.util.List<Subscriber> group) {
            for (Subscriber s : group) s.reading = true;
            Future<Page> page = pages.get(cursor);
            if (page == null) {
                historyReads.incrementAndGet();
                page = page(cursor, PAGE_LIMIT, Filter.ALL).map(v -> new Page(v.value(), new Frames(v.value().changes())));
                pages.put(cursor, page);
            }
            page.onComplete(ar -> {
                boolean advanced = ar.succeeded() && ar.result().changes().resumeRev() > cursor;
                if (!advanced) pages.remove(cursor); // a failure, or nothing yet: never served again from memory
                deliver(ar, group, 0, advanced, new Encoded());
            });
        }

        /** Serves {@code group} from {@code from} on, a bounded number per task, then looks for more work. */
        private void deliver(io.vertx.core.AsyncResult<Page> ar, java.util.List<Subscriber> group, int from, boolean advanced,
                             Encoded encoded) {
            int to = Math.min(group.size(), from + DELIVERIES_PER_TASK);
            try {
                for (Subscriber s : group.subList(from, to)) {
                    s.reading = false;
                    if (s.closed) continue;
                    if (ar.failed()) s.fail(ar.cause());
                    else s.deliver(ar.result(), encoded);
                }
            } finally {
                if (to >= group.size()) encoded.release();
            }
            if (to < group.size()) {
                context.runOnContext(v -> deliver(ar, group, to, advanced, encoded));
            } else if (advanced) {
                wakeSoon();
            } else {
                context.owner().setTimer(RETRY_MILLIS, t -> wakeSoon());
            }
        }

        /** The WebSocket frames of {@code texts}, encoded by Netty into one buffer (empty when there are none). */
        ByteBuf frames(java.util.List<String> texts) {
            if (texts.isEmpty()) return io.netty.buffer.Unpooled.EMPTY_BUFFER;
            for (String t : texts) {
                ByteBuf utf8 = io.netty.buffer.ByteBufUtil.writeUtf8(encoder.alloc(), t);
                boolean first = true;
                do { // a long message goes in fragments no client limit refuses
                    ByteBuf part = utf8.readRetainedSlice(Math.min(FRAME_BYTES_MAX, utf8.readableBytes()));
                    boolean last = !utf8.isReadable();
                    encoder.write(first ? new TextWebSocketFrame(last, 0, part) : new ContinuationWebSocketFrame(last, 0, part));
                    first = false;
                } while (utf8.isReadable());
                utf8.release();
            }
            encoder.flush();
            java.util.List<ByteBuf> parts = new java.util.ArrayList<>();
            int size = 0;
            for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
                parts.add(b);
                size += b.readableBytes();
            }
            ByteBuf out = encoder.alloc().directBuffer(size);
            for (ByteBuf b : parts) {
                out.writeBytes(b);
                b.release();
            }
            return out;
        }

        void progressTick() {
            long now = System.nanoTime();
            for (Subscriber s : subscribers) s.maybeProgress(now);
        }
    }

    private final class Subscriber {
        final ServerWebSocket ws;
        /** Where frames are written: whole frames, on this loop, so they never interleave with Vert.x's own (pongs, close). */
        final Channel channel;
        final Filter filter;
        final Loop loop;
        long cursor;
        boolean reading;
        boolean closed;
        long lastSentNanos = System.nanoTime();
        boolean sentAny;

        Subscriber(ServerWebSocket ws, Channel channel, Filter filter, long cursor, Loop loop) {
            this.ws = ws;
            this.channel = channel;
            this.filter = filter;
            this.cursor = cursor;
            this.loop = loop;
        }

        /** Asks the loop for the next page if there is news; runs on the subscriber's loop. */
        void pump() {
            if (closed || reading || !channel.isWritable()) return;
            if (cursor >= applied.get()) {
                // Caught up. The first frame of a stream also flushes the WebSocket handshake, which
                // can otherwise sit in the socket buffer until something is written: say where we are.
                if (!sentAny) sendProgress(System.nanoTime());
                return;
            }
            loop.wakeSoon();
        }

        /** Sends the changes of {@code page} this subscriber's filter keeps, and moves its cursor past the page. */
        void deliver(Page page, Encoded encoded) {
            ByteBuf bytes = encoded.frames(page, filter, loop);
            if (bytes.isReadable()) {
                write(bytes);
                lastSentNanos = System.nanoTime();
                sentAny = true;
            } else {
                bytes.release();
            }
            cursor = Math.max(cursor, page.changes().resumeRev());
        }

        /** Sends one text frame. */
        void send(String text) {
            write(loop.frames(java.util.List.of(text)));
        }

        /** Writes whole frames and flushes them (the buffer is the channel's to release); a closed socket ends the subscription. */
        void write(ByteBuf frames) {
            if (closed || !channel.isActive()) {
                frames.release();
                close();
                return;
            }
            channel.writeAndFlush(frames, channel.voidPromise());
        }

        void maybeProgress(long now) {
            if (closed || reading || !channel.isWritable()) return;
            if (now - lastSentNanos < progressMillis * 1_000_000L) return;
            if (cursor < applied.get()) {
                pump();
                return;
            }
            sendProgress(now);
        }

        void sendProgress(long now) {
            lastSentNanos = now;
            sentAny = true;
            long rev = cursor;
            send(JsonOut.write(g -> {
                g.writeStartObject();
                g.writeStringField("type", "progress");
                g.writeNumberField("rev", rev);
                g.writeEndObject();
            }));
        }

        void fail(Throwable cause) {
            if (cause instanceof CairnException e && e.code() == ErrorCode.COMPACTED) {
                Object oldest = e.details().get("oldestRev");
                send(JsonOut.write(g -> {
                    g.writeStartObject();
                    g.writeStringField("type", "error");
                    g.writeStringField("code", "compacted");
                    g.writeStringField("message", e.getMessage());
                    if (oldest instanceof Number n) g.writeNumberField("oldestRev", n.longValue());
                    g.writeEndObject();
                }));
                ws.close(CLOSE_COMPACTED, "compacted");
            } else if (cause instanceof CairnException e && e.code() == ErrorCode.NOT_READY) {
                // the store is being replaced by a snapshot: try again shortly
                loop.context.owner().setTimer(RETRY_MILLIS, t -> pump());
                return;
            } else {
                ws.close((short) 1011, "change stream failed");
            }
            close();
        }

        void close() {
            if (closed) return;
            closed = true;
            if (loop.subscribers.remove(this)) subscriberCount.decrementAndGet();
            if (channel.pipeline().get(WRITABILITY_HANDLER) != null) channel.pipeline().remove(WRITABILITY_HANDLER);
        }
    }

    // ------------------------------------------------------------------ shared

    private static void change(JsonGenerator g, Change c, boolean prev) throws IOException {
        g.writeStartObject();
        g.writeStringField("type", "change");
        g.writeNumberField("rev", c.rev());
        g.writeStringField("op", c.op());
        g.writeStringField("collection", c.collection());
        if (c.key() == null) g.writeNullField("key");
        else g.writeStringField("key", c.key());
        g.writeFieldName("doc");
        if (c.doc() == null) g.writeNull();
        else g.writeRawValue(c.doc());
        if (prev) {
            g.writeFieldName("prev");
            if (c.prev() == null) g.writeNull();
            else g.writeRawValue(c.prev());
        }
        g.writeEndObject();
    }

    /** The JSON text of each change of a page, made at most once per form (with or without {@code prev}). */
    private static final class Frames {
        private final java.util.List<Change> changes;
        private final String[] plain;
        private final String[] withPrev;

        Frames(java.util.List<Change> changes) {
            this.changes = changes;
            this.plain = new String[changes.size()];
            this.withPrev = new String[changes.size()];
        }

        String text(int i, boolean prev) {
            String[] cache = prev ? withPrev : plain;
            if (cache[i] == null) cache[i] = JsonOut.write(g -> change(g, changes.get(i), prev));
            return cache[i];
        }
    }

    private record Page(ChangePage changes, Frames frames) {}

    /**
     * The encoded frames of one page for each filter met while a group is served, shared by the
     * subscribers with that filter (each write takes a retained duplicate), up to
     * {@link #SHARED_PAGE_BYTES_MAX} bytes; released when the group is done.
     */
    private static final class Encoded {
        private final Map<Filter, ByteBuf> byFilter = new java.util.HashMap<>();
        private long bytes;

        /** The frames of the changes of {@code page} that {@code f} keeps; the caller owns (writes or releases) the buffer. */
        ByteBuf frames(Page page, Filter f, Loop loop) {
            ByteBuf shared = byFilter.get(f);
            if (shared != null) return shared.retainedDuplicate();
            java.util.List<String> texts = new java.util.ArrayList<>();
            java.util.List<Change> changes = page.changes().changes();
            for (int i = 0; i < changes.size(); i++) {
                if (f.matches(changes.get(i))) texts.add(page.frames().text(i, f.prev));
            }
            ByteBuf made = loop.frames(texts);
            if (bytes + made.readableBytes() > SHARED_PAGE_BYTES_MAX) return made;
            bytes += made.readableBytes();
            byFilter.put(f, made);
            return made.retainedDuplicate();
        }

        void release() {
            for (ByteBuf b : byFilter.values()) b.release();
            byFilter.clear();
        }
    }

    private record Filter(String collection, String key, boolean prev) {
        static final Filter ALL = new Filter(null, null, false);

        /** The store's filter rule, in memory: a collection's {@code drop} passes every key filter. */
        boolean matches(Change c) {
            if (collection != null && !collection.equals(c.collection())) return false;
            return key == null || "drop".equals(c.op()) || key.equals(c.key());
        }

        static Filter of(RoutingContext ctx) {
            String p = ctx.request().getParam("prev");
            if (p != null && !p.equals("true") && !p.equals("false")) {
                throw new CairnException(ErrorCode.BAD_REQUEST, "prev must be true or false");
            }
            return of(ctx.request().getParam("collection"), ctx.request().getParam("key"), "true".equals(p));
        }

        static Filter of(String c, String k, boolean prev) {
            if (c != null) Validation.name("collection", c);
            if (k != null) Validation.key(k);
            return new Filter(c, k, prev);
        }
    }

    private static Long optionalLong(RoutingContext ctx, String name) {
        if (ctx.request().getParam(name) == null) return null;
        return HttpApi.longParam(ctx, name, 0, 0, Long.MAX_VALUE);
    }
}
