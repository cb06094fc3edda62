package io.cairn.raft;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Compact binary form of {@link Message} and {@link Membership}: big-endian (as DataOutputStream
 * writes), a version byte, a kind
 * byte, then the fields; strings as u16 length + UTF-8, byte arrays as u32 length + bytes. Pure and
 * thread-safe (no state).
 *
 * <p>Decoding is strict: every length is checked against the bytes that remain (so a forged length
 * can never allocate more than the input), counts and sizes against the limits below, booleans must
 * be 0 or 1, strings valid UTF-8, and no byte may be left over. Malformed input throws
 * {@link IllegalArgumentException} and nothing else.
 */
public final class MessageCodec {
    public static final byte VERSION = 1;
    /** Longest id or address, in UTF-8 bytes. */
    public static final int STRING_BYTES_MAX = 1024;
    /** Most entries in one AppendEntries. */
    public static final int ENTRIES_MAX = 1 << 20;
    /** Largest entry payload. */
    public static final int ENTRY_BYTES_MAX = 64 << 20;
    /** Largest snapshot chunk. */
    public static final int CHUNK_BYTES_MAX = 64 << 20;
    /** Most members in a membership. */
    public static final int MEMBERS_MAX = 1024;

    private static final Message.Kind[] KINDS = Message.Kind.values();
    private static final EntryType[] ENTRY_TYPES = EntryType.values();

    private MessageCodec() {}

    /** Encodes {@code m}; throws IllegalArgumentException if an id is longer than {@link #STRING_BYTES_MAX}. */
    public static byte[] encode(Message m) {
        Writer out = new Writer(64);
        out.writeByte(VERSION);
        out.writeByte(m.kind().ordinal());
        writeString(out, m.from());
        writeString(out, m.to());
        out.writeLong(m.term());
        encodeBody(out, m);
        return out.toByteArray();
    }

    public static Message decode(byte[] bytes) {
        Reader in = new Reader(bytes);
        int version = in.u8();
        if (version != VERSION) throw new IllegalArgumentException("unknown codec version " + version);
        int kind = in.u8();
        if (kind >= KINDS.length) throw new IllegalArgumentException("unknown message kind " + kind);
        String from = in.string();
        String to = in.string();
        long term = in.nonNegativeLong("term");
        Message m = decodeBody(in, KINDS[kind], from, to, term);
        in.end();
        return m;
    }

    public static byte[] encodeMembership(Membership membership) {
        Writer out = new Writer(64);
        writeMembership(out, membership);
        return out.toByteArray();
    }

    public static Membership decodeMembership(byte[] bytes) {
        Reader in = new Reader(bytes);
        Membership m = readMembership(in);
        in.end();
        return m;
    }

    private static void encodeBody(Writer out, Message m) {
        switch (m.kind()) {
            case PRE_VOTE_REQUEST -> {
                var r = (Message.PreVoteRequest) m;
                out.writeLong(r.lastIndex());
                out.writeLong(r.lastTerm());
            }
            case PRE_VOTE_RESPONSE -> out.writeBoolean(((Message.PreVoteResponse) m).granted());
            case VOTE_REQUEST -> {
                var r = (Message.VoteRequest) m;
                out.writeLong(r.lastIndex());
                out.writeLong(r.lastTerm());
                out.writeBoolean(r.transfer());
            }
            case VOTE_RESPONSE -> out.writeBoolean(((Message.VoteResponse) m).granted());
            case APPEND_ENTRIES -> encodeAppend(out, (Message.AppendEntries) m);
            case APPEND_RESPONSE -> {
                var r = (Message.AppendResponse) m;
                out.writeBoolean(r.success());
                out.writeLong(r.index());
                out.writeLong(r.hintIndex());
                out.writeLong(r.hintTerm());
            }
            case HEARTBEAT -> {
                var r = (Message.Heartbeat) m;
                out.writeLong(r.commit());
                out.writeLong(r.readSeq());
                out.writeLong(r.sentTick());
            }
            case HEARTBEAT_RESPONSE -> {
                var r = (Message.HeartbeatResponse) m;
                out.writeLong(r.readSeq());
                out.writeLong(r.sentTick());
                out.writeLong(r.lostLogAt());
            }
            case INSTALL_SNAPSHOT -> {
                var r = (Message.InstallSnapshot) m;
                writeSnapshotMeta(out, r.meta());
                out.writeLong(r.offset());
                writeBytes(out, r.data());
                out.writeBoolean(r.last());
            }
            case INSTALL_SNAPSHOT_RESPONSE -> {
                var r = (Message.InstallSnapshotResponse) m;
                out.writeLong(r.snapshotIndex());
                out.writeLong(r.nextOffset());
                out.writeBoolean(r.done());
            }
            case TIMEOUT_NOW -> { }
            case READ_INDEX_REQUEST -> out.writeLong(((Message.ReadIndexRequest) m).requestId());
            case READ_INDEX_RESPONSE -> {
                var r = (Message.ReadIndexResponse) m;
                out.writeLong(r.requestId());
                out.writeLong(r.index());
                out.writeBoolean(r.ok());
            }
        }
    }

    private static void encodeAppend(Writer out, Message.AppendEntries a) {
        out.writeLong(a.prevIndex());
        out.writeLong(a.prevTerm());
        out.writeLong(a.commit());
        out.writeInt(a.entries().size());
        for (Entry e : a.entries()) {
            out.writeLong(e.term());
            out.writeByte(e.type().ordinal());
            writeBytes(out, e.data());
        }
    }

    private static Message decodeBody(Reader in, Message.Kind kind, String from, String to, long term) {
        return switch (kind) {
            case PRE_VOTE_REQUEST -> new Message.PreVoteRequest(from, to, term, in.nonNegativeLong("lastIndex"),
                    in.nonNegativeLong("lastTerm"));
            case PRE_VOTE_RESPONSE -> new Message.PreVoteResponse(from, to, term, in.bool());
            case VOTE_REQUEST -> new Message.VoteRequest(from, to, term, in.nonNegativeLong("lastIndex"),
                    in.nonNegativeLong("lastTerm"), in.bool());
            case VOTE_RESPONSE -> new Message.VoteResponse(from, to, term, in.bool());
            case APPEND_ENTRIES -> decodeAppend(in, from, to, term);
            case APPEND_RESPONSE -> new Message.AppendResponse(from, to, term, in.bool(),
                    in.nonNegativeLong("index"), in.nonNegativeLong("hintIndex"), in.nonNegativeLong("hintTerm"));
            case HEARTBEAT -> new Message.Heartbeat(from, to, term, in.nonNegativeLong("commit"),
                    in.nonNegativeLong("readSeq"), in.i64());
            case HEARTBEAT_RESPONSE -> new Message.HeartbeatResponse(from, to, term,
                    in.nonNegativeLong("readSeq"), in.i64(), in.i64());
            case INSTALL_SNAPSHOT -> new Message.InstallSnapshot(from, to, term, readSnapshotMeta(in),
                    in.nonNegativeLong("offset"), in.bytes(CHUNK_BYTES_MAX), in.bool());
            case INSTALL_SNAPSHOT_RESPONSE -> new Message.InstallSnapshotResponse(from, to, term,
                    in.nonNegativeLong("snapshotIndex"), in.nonNegativeLong("nextOffset"), in.bool());
            case TIMEOUT_NOW -> new Message.TimeoutNow(from, to, term);
            case READ_INDEX_REQUEST -> new Message.ReadIndexRequest(from, to, term, in.i64());
            case READ_INDEX_RESPONSE -> new Message.ReadIndexResponse(from, to, term, in.i64(),
                    in.nonNegativeLong("index"), in.bool());
        };
    }

    private static Message decodeAppend(Reader in, String from, String to, long term) {
        long prevIndex = in.nonNegativeLong("prevIndex");
        long prevTerm = in.nonNegativeLong("prevTerm");
        long commit = in.nonNegativeLong("commit");
        // Each entry takes at least 13 bytes (term, type, length), so a count beyond that is forged.
        int count = in.count(ENTRIES_MAX, 13);
        if (count > 0 && prevIndex > Long.MAX_VALUE - count) throw new IllegalArgumentException("index overflow");
        List<Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            long entryTerm = in.nonNegativeLong("entry term");
            int type = in.u8();
            if (type >= ENTRY_TYPES.length) throw new IllegalArgumentException("unknown entry type " + type);
            entries.add(new Entry(prevIndex + 1 + i, entryTerm, ENTRY_TYPES[type], in.bytes(ENTRY_BYTES_MAX)));
        }
        return new Message.AppendEntries(from, to, term, prevIndex, prevTerm, commit, entries);
    }

    private static void writeSnapshotMeta(Writer out, SnapshotMeta meta) {
        out.writeLong(meta.index());
        out.writeLong(meta.term());
        writeMembership(out, meta.membership());
    }

    private static SnapshotMeta readSnapshotMeta(Reader in) {
        return new SnapshotMeta(in.nonNegativeLong("snapshot index"), in.nonNegativeLong("snapshot term"),
                readMembership(in));
    }

    private static void writeMembership(Writer out, Membership membership) {
        out.writeInt(membership.members().size());
        for (Member m : membership.members()) {
            writeString(out, m.id());
            writeString(out, m.raftAddress());
            writeString(out, m.httpAddress());
            out.writeBoolean(m.voter());
        }
    }

    private static Membership readMembership(Reader in) {
        int count = in.count(MEMBERS_MAX, 7);
        List<Member> members = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            members.add(new Member(in.string(), in.string(), in.string(), in.bool()));
        }
        return new Membership(members);
    }

    private static void writeString(Writer out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > STRING_BYTES_MAX) throw new IllegalArgumentException("string longer than " + STRING_BYTES_MAX);
        out.writeShort(b.length);
        out.write(b);
    }

    private static void writeBytes(Writer out, byte[] b) {
        out.writeInt(b.length);
        out.write(b);
    }

    /** A growable big-endian buffer (what DataOutputStream on a ByteArrayOutputStream does, unsynchronized). */
    private static final class Writer {
        private byte[] buf;
        private int pos;

        Writer(int capacity) {
            buf = new byte[capacity];
        }

        private void ensure(int n) {
            if (buf.length - pos < n) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }

        void writeByte(int v) {
            ensure(1);
            buf[pos++] = (byte) v;
        }

        void writeBoolean(boolean v) {
            writeByte(v ? 1 : 0);
        }

        void writeShort(int v) {
            ensure(2);
            buf[pos++] = (byte) (v >>> 8);
            buf[pos++] = (byte) v;
        }

        void writeInt(int v) {
            ensure(4);
            buf[pos++] = (byte) (v >>> 24);
            buf[pos++] = (byte) (v >>> 16);
            buf[pos++] = (byte) (v >>> 8);
            buf[pos++] = (byte) v;
        }

        void writeLong(long v) {
            writeInt((int) (v >>> 32));
            writeInt((int) v);
        }

        void write(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, pos, b.length);
            pos += b.length;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, pos);
        }
    }

    /** A bounds-checked cursor over the input. */
    private static final class Reader {
        private final byte[] buf;
        private int pos;

        Reader(byte[] buf) {
            if (buf == null) throw new IllegalArgumentException("null input");
            this.buf = buf;
        }

        private void need(int n) {
            if (n < 0 || buf.length - pos < n) throw new IllegalArgumentException("truncated input at " + pos);
        }

        int u8() {
            need(1);
            return buf[pos++] & 0xff;
        }

        boolean bool() {
            int b = u8();
            if (b > 1) throw new IllegalArgumentException("bad boolean " + b);
            return b == 1;
        }

        int i32() {
            need(4);
            int v = ((buf[pos] & 0xff) << 24) | ((buf[pos + 1] & 0xff) << 16) | ((buf[pos + 2] & 0xff) << 8)
                    | (buf[pos + 3] & 0xff);
            pos += 4;
            return v;
        }

        long i64() {
            long hi = i32() & 0xffffffffL;
            long lo = i32() & 0xffffffffL;
            return (hi << 32) | lo;
        }

        long nonNegativeLong(String what) {
            long v = i64();
            if (v < 0) throw new IllegalArgumentException("negative " + what);
            return v;
        }

        /** A count of items that each take at least {@code minBytes}. */
        int count(int max, int minBytes) {
            int n = i32();
            if (n < 0 || n > max || (long) n * minBytes > buf.length - pos) {
                throw new IllegalArgumentException("bad count " + n);
            }
            return n;
        }

        byte[] bytes(int max) {
            int n = i32();
            if (n < 0 || n > max) throw new IllegalArgumentException("bad length " + n);
            need(n);
            byte[] b = new byte[n];
            System.arraycopy(buf, pos, b, 0, n);
            pos += n;
            return b;
        }

        String string() {
            need(2);
            int n = ((buf[pos] & 0xff) << 8) | (buf[pos + 1] & 0xff);
            pos += 2;
            if (n > STRING_BYTES_MAX) throw new IllegalArgumentException("string too long " + n);
            need(n);
            if (isAscii(pos, n)) {
                String s = new String(buf, pos, n, StandardCharsets.US_ASCII);
                pos += n;
                return s;
            }
            try {
                String s = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(buf, pos, n)).toString();
                pos += n;
                return s;
            } catch (CharacterCodingException e) {
                throw new IllegalArgumentException("invalid UTF-8 at " + pos, e);
            }
        }

        private boolean isAscii(int from, int n) {
            for (int i = from; i < from + n; i++) {
                if (buf[i] < 0) return false;
            }
            return true;
        }

        void end() {
            if (pos != buf.length) throw new IllegalArgumentException((buf.length - pos) + " trailing bytes");
        }
    }
}
