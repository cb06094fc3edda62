package io.cairn.store;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Compact binary form of a {@link Command}, the payload of a NORMAL Raft log entry. Pure and
 * thread-safe.
 *
 * <pre>
 * command  = version(1 byte = 1) type(1 byte) timeMillis(8 bytes, big-endian) body
 * string   = length(unsigned varint) UTF-8 bytes
 * optLong  = 0 | 1 long(8 bytes)
 * CreateCollection(1) = string name, varint n, n x index
 * DropCollection(2)   = string name
 * CreateIndex(3)      = string collection, index
 * DropIndex(4)        = string collection, string name
 * Txn(5)              = varint n, n x op
 * Noop(6)             = (nothing)
 * index    = string name, varint n, n x string field, unique(0|1)
 * op       = put(1) coll key doc optLong ifRev | insert(2) coll key doc
 *          | patch(3) coll key patch optLong ifRev | delete(4) coll key optLong ifRev
 *          | check(5) coll key long rev
 * </pre>
 *
 * <p>{@link #decode} is strict and bounded: at most {@link #COMMAND_BYTES_MAX} bytes, counts and
 * lengths checked against what remains, UTF-8 checked, no trailing bytes. Anything else is
 * {@code bad_request}. Decoding checks form only; {@link Validation} checks meaning.
 *
 * <p>For the node: decoding is deterministic, so a NORMAL entry that cannot be decoded (only a bug
 * could put one in the log) fails the same way on every replica. Apply {@link Command.Noop} at its
 * index and answer the waiting client with the decode error.
 */
public final class CommandCodec {
    public static final int VERSION = 1;
    /** Largest encoded command accepted (64 MiB): above any transaction the limits allow. */
    public static final int COMMAND_BYTES_MAX = 64 << 20;
    private static final int COUNT_MAX = 1 << 20;

    private CommandCodec() {}

    public static byte[] encode(Command c) {
        Out out = new Out();
        out.write(VERSION);
        if (c instanceof Command.CreateCollection cc) {
            out.write(1);
            out.long8(cc.timeMillis());
            out.string(cc.name());
            out.varint(cc.indexes().size());
            for (IndexSpec s : cc.indexes()) out.index(s);
        } else if (c instanceof Command.DropCollection dc) {
            out.write(2);
            out.long8(dc.timeMillis());
            out.string(dc.name());
        } else if (c instanceof Command.CreateIndex ci) {
            out.write(3);
            out.long8(ci.timeMillis());
            out.string(ci.collection());
            out.index(ci.index());
        } else if (c instanceof Command.DropIndex di) {
            out.write(4);
            out.long8(di.timeMillis());
            out.string(di.collection());
            out.string(di.name());
        } else if (c instanceof Command.Txn t) {
            out.write(5);
            out.long8(t.timeMillis());
            out.varint(t.ops().size());
            for (Op op : t.ops()) out.op(op);
        } else if (c instanceof Command.Noop n) {
            out.write(6);
            out.long8(n.timeMillis());
        } else {
            throw new IllegalStateException("unknown command " + c.getClass().getName());
        }
        return out.toByteArray();
    }

    /** @throws CairnException {@code bad_request} if {@code bytes} is not a well-formed command */
    public static Command decode(byte[] bytes) {
        if (bytes == null) throw malformed("no bytes");
        if (bytes.length > COMMAND_BYTES_MAX) throw malformed("larger than " + COMMAND_BYTES_MAX + " bytes");
        In in = new In(bytes);
        int version = in.u8();
        if (version != VERSION) throw malformed("unknown version " + version);
        int type = in.u8();
        long time = in.long8();
        Command c = switchType(type, time, in);
        if (in.remaining() != 0) throw malformed(in.remaining() + " trailing bytes");
        return c;
    }

    private static Command switchType(int type, long time, In in) {
        switch (type) {
            case 1: {
                String name = in.string();
                int n = in.count();
                List<IndexSpec> specs = new ArrayList<>(Math.min(n, 64));
                for (int i = 0; i < n; i++) specs.add(in.index());
                return new Command.CreateCollection(name, specs, time);
            }
            case 2:
                return new Command.DropCollection(in.string(), time);
            case 3: {
                String coll = in.string();
                return new Command.CreateIndex(coll, in.index(), time);
            }
            case 4: {
                String coll = in.string();
                return new Command.DropIndex(coll, in.string(), time);
            }
            case 5: {
                int n = in.count();
                List<Op> ops = new ArrayList<>(Math.min(n, 1024));
                for (int i = 0; i < n; i++) ops.add(in.op());
                return new Command.Txn(ops, time);
            }
            case 6:
                return new Command.Noop(time);
            default:
                throw malformed("unknown command type " + type);
        }
    }

    static CairnException malformed(String why) {
        return new CairnException(ErrorCode.BAD_REQUEST, "Malformed command: " + why + ".");
    }

    private static final class Out extends ByteArrayOutputStream {
        Out() {
            super(256);
        }

        void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            write((int) v);
        }

        void long8(long v) {
            for (int i = 7; i >= 0; i--) write((int) (v >>> (8 * i)));
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            varint(b.length);
            write(b, 0, b.length);
        }

        void optLong(Long v) {
            if (v == null) {
                write(0);
            } else {
                write(1);
                long8(v);
            }
        }

        void index(IndexSpec s) {
            string(s.name());
            varint(s.fields().size());
            for (String f : s.fields()) string(f);
            write(s.unique() ? 1 : 0);
        }

        void op(Op op) {
            if (op instanceof Op.Put p) {
                write(1);
                string(p.collection());
                string(p.key());
                string(p.docJson());
                optLong(p.ifRev());
            } else if (op instanceof Op.Insert p) {
                write(2);
                string(p.collection());
                string(p.key() == null ? "" : p.key()); // "" (never a valid key): generate one
                string(p.docJson());
            } else if (op instanceof Op.Patch p) {
                write(3);
                string(p.collection());
                string(p.key());
                string(p.mergePatchJson());
                optLong(p.ifRev());
            } else if (op instanceof Op.Delete d) {
                write(4);
                string(d.collection());
                string(d.key());
                optLong(d.ifRev());
            } else if (op instanceof Op.Check c) {
                write(5);
                string(c.collection());
                string(c.key());
                long8(c.rev());
            } else {
                throw new IllegalStateException("unknown op " + op.getClass().getName());
            }
        }
    }

    private static final class In {
        private final ByteBuffer buf;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);

        In(byte[] bytes) {
            buf = ByteBuffer.wrap(bytes);
        }

        int remaining() {
            return buf.remaining();
        }

        int u8() {
            if (!buf.hasRemaining()) throw malformed("truncated");
            return buf.get() & 0xFF;
        }

        long long8() {
            if (buf.remaining() < 8) throw malformed("truncated");
            return buf.getLong();
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                int b = u8();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) return v;
            }
            throw malformed("varint too long");
        }

        /** A count of items that each take at least one byte. */
        int count() {
            long n = varint();
            if (n > COUNT_MAX || n > buf.remaining()) throw malformed("count " + n + " exceeds the bytes left");
            return (int) n;
        }

        String string() {
            long n = varint();
            if (n > buf.remaining()) throw malformed("string length " + n + " exceeds the bytes left");
            ByteBuffer slice = buf.slice();
            slice.limit((int) n);
            buf.position(buf.position() + (int) n);
            try {
                CharBuffer cb = utf8.reset().decode(slice);
                return cb.toString();
            } catch (CharacterCodingException e) {
                throw malformed("invalid UTF-8 in a string");
            }
        }

        Long optLong() {
            int flag = u8();
            if (flag == 0) return null;
            if (flag != 1) throw malformed("bad optional flag " + flag);
            return long8();
        }

        boolean bool() {
            int b = u8();
            if (b > 1) throw malformed("bad boolean " + b);
            return b == 1;
        }

        IndexSpec index() {
            String name = string();
            int n = count();
            List<String> fields = new ArrayList<>(Math.min(n, 64));
            for (int i = 0; i < n; i++) fields.add(string());
            return new IndexSpec(name, fields, bool());
        }

        Op op() {
            int type = u8();
            switch (type) {
                case 1: {
                    String c = string();
                    String k = string();
                    String d = string();
                    return new Op.Put(c, k, d, optLong());
                }
                case 2: {
                    String c = string();
                    String k = string();
                    return new Op.Insert(c, k.isEmpty() ? null : k, string());
                }
                case 3: {
                    String c = string();
                    String k = string();
                    String p = string();
                    return new Op.Patch(c, k, p, optLong());
                }
                case 4: {
                    String c = string();
                    String k = string();
                    return new Op.Delete(c, k, optLong());
                }
                case 5: {
                    String c = string();
                    String k = string();
                    return new Op.Check(c, k, long8());
                }
                default:
                    throw malformed("unknown op type " + type);
            }
        }
    }
}
