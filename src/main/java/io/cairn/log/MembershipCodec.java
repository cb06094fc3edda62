package io.cairn.log;

import io.cairn.raft.Member;
import io.cairn.raft.Membership;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The stored form of a {@link Membership}: version byte, count, then (id, raft, http, voter) per member. */
final class MembershipCodec {
    private static final byte VERSION = 1;
    static final int MEMBERS_MAX = 1_000;

    private MembershipCodec() {}

    static byte[] encode(Membership membership) {
        if (membership.members().size() > MEMBERS_MAX) throw new IllegalArgumentException("too many members");
        var bytes = new ByteArrayOutputStream();
        try (var out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(membership.members().size());
            for (Member m : membership.members()) {
                out.writeUTF(m.id());
                out.writeUTF(m.raftAddress());
                out.writeUTF(m.httpAddress());
                out.writeBoolean(m.voter());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Membership decode(byte[] data) {
        try (var in = new DataInputStream(new ByteArrayInputStream(data))) {
            byte version = in.readByte();
            if (version != VERSION) throw new LogStoreException("unknown membership encoding version " + version);
            int count = in.readInt();
            if (count < 0 || count > MEMBERS_MAX) throw new LogStoreException("bad membership count " + count);
            List<Member> members = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                members.add(new Member(in.readUTF(), in.readUTF(), in.readUTF(), in.readBoolean()));
            }
            if (in.available() != 0) throw new LogStoreException("trailing bytes after membership");
            return new Membership(members);
        } catch (IOException e) {
            throw new LogStoreException("corrupt membership", e);
        }
    }
}
