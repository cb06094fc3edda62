package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The peer wire format: every message round-trips; malformed input only ever yields IllegalArgumentException. */
class MessageCodecTest {
    static final SnapshotMeta META = new SnapshotMeta(12, 3, new Membership(List.of(
            new Member("n1", "h1:7000", "h1:8080", true), new Member("nø", "h2:7000", "h2:8080", false))));

    static List<Message> samples() {
        return List.of(
                new Message.PreVoteRequest("n1", "n2", 4, 10, 3),
                new Message.PreVoteResponse("n2", "n1", 4, true),
                new Message.VoteRequest("n1", "n2", 4, 10, 3, true),
                new Message.VoteResponse("n2", "n1", 4, false),
                new Message.AppendEntries("n1", "n2", 4, 9, 3, 8, List.of(
                        new Entry(10, 3, EntryType.NORMAL, new byte[] {1, 2, 3}),
                        new Entry(11, 4, EntryType.NOOP, new byte[0]),
                        new Entry(12, 4, EntryType.MEMBERSHIP, MessageCodec.encodeMembership(META.membership())))),
                new Message.AppendEntries("n1", "n2", 4, 0, 0, 0, List.of()),
                new Message.AppendResponse("n2", "n1", 4, false, 9, 7, 2),
                new Message.Heartbeat("n1", "n2", 4, 8, 17, 1234),
                new Message.HeartbeatResponse("n2", "n1", 4, 17, 1234),
                new Message.HeartbeatResponse("n2", "n1", 4, 17, 1234, 9),
                new Message.InstallSnapshot("n1", "n2", 4, META, 64, new byte[] {9, 8, 7}, true),
                new Message.InstallSnapshotResponse("n2", "n1", 4, 12, 67, false),
                new Message.TimeoutNow("n1", "n2", 4),
                new Message.ReadIndexRequest("n2", "n1", 4, -5),
                new Message.ReadIndexResponse("n1", "n2", 4, -5, 8, true));
    }

    @Test
    void everyKindRoundTrips() {
        EnumSet<Message.Kind> kinds = EnumSet.noneOf(Message.Kind.class);
        for (Message m : samples()) {
            Message back = MessageCodec.decode(MessageCodec.encode(m));
            assertThat(back).usingRecursiveComparison().isEqualTo(m);
            kinds.add(m.kind());
        }
        assertThat(kinds).isEqualTo(EnumSet.allOf(Message.Kind.class));
    }

    @Test
    void membershipRoundTrips() {
        Membership m = META.membership();
        assertThat(MessageCodec.decodeMembership(MessageCodec.encodeMembership(m))).isEqualTo(m);
        assertThat(MessageCodec.decodeMembership(MessageCodec.encodeMembership(Membership.EMPTY))).isEqualTo(Membership.EMPTY);
    }

    @Test
    void everyTruncationAndTrailingByteIsRejected() {
        for (Message m : samples()) {
            byte[] b = MessageCodec.encode(m);
            for (int n = 0; n < b.length; n++) {
                byte[] cut = Arrays.copyOf(b, n);
                assertThatThrownBy(() -> MessageCodec.decode(cut)).isInstanceOf(IllegalArgumentException.class);
            }
            byte[] longer = Arrays.copyOf(b, b.length + 1);
            assertThatThrownBy(() -> MessageCodec.decode(longer)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void randomCorruptionYieldsAMessageOrIllegalArgumentExceptionNeverAnythingElse() {
        SplittableRandom random = new SplittableRandom(42);
        List<Message> samples = samples();
        for (int i = 0; i < 20_000; i++) {
            byte[] b = MessageCodec.encode(samples.get(random.nextInt(samples.size())));
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            try {
                MessageCodec.decode(b);
            } catch (IllegalArgumentException expected) {
                // fine
            }
        }
        for (int i = 0; i < 10_000; i++) {
            byte[] b = new byte[random.nextInt(64)];
            random.nextBytes(b);
            try {
                MessageCodec.decode(b);
            } catch (IllegalArgumentException expected) {
                // fine
            }
        }
    }

    @Test
    void forgedLengthsAndCountsAreRejectedWithoutAllocating() {
        byte[] append = MessageCodec.encode(new Message.AppendEntries("n1", "n2", 4, 9, 3, 8, List.of()));
        // The entry count is the last int: claim a billion entries.
        ByteBuffer.wrap(append).putInt(append.length - 4, 1_000_000_000);
        assertThatThrownBy(() -> MessageCodec.decode(append)).isInstanceOf(IllegalArgumentException.class);

        byte[] chunk = MessageCodec.encode(new Message.InstallSnapshot("n1", "n2", 4, SnapshotMeta.EMPTY, 0, new byte[0], true));
        // The chunk length is the int before the final boolean: claim 2 GiB.
        ByteBuffer.wrap(chunk).putInt(chunk.length - 5, Integer.MAX_VALUE);
        assertThatThrownBy(() -> MessageCodec.decode(chunk)).isInstanceOf(IllegalArgumentException.class);
        ByteBuffer.wrap(chunk).putInt(chunk.length - 5, -1);
        assertThatThrownBy(() -> MessageCodec.decode(chunk)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void badVersionKindBooleanUtf8AndNegativeNumbersAreRejected() {
        byte[] vote = MessageCodec.encode(new Message.VoteResponse("n2", "n1", 4, true));
        byte[] v = vote.clone();
        v[0] = 2;
        assertThatThrownBy(() -> MessageCodec.decode(v)).isInstanceOf(IllegalArgumentException.class);
        byte[] k = vote.clone();
        k[1] = (byte) Message.Kind.values().length;
        assertThatThrownBy(() -> MessageCodec.decode(k)).isInstanceOf(IllegalArgumentException.class);
        byte[] bool = vote.clone();
        bool[bool.length - 1] = 2;
        assertThatThrownBy(() -> MessageCodec.decode(bool)).isInstanceOf(IllegalArgumentException.class);
        byte[] utf = vote.clone();
        utf[4] = (byte) 0xff;
        assertThatThrownBy(() -> MessageCodec.decode(utf)).isInstanceOf(IllegalArgumentException.class);
        byte[] term = vote.clone();
        term[2 + 4 + 4] = (byte) 0x80;
        assertThatThrownBy(() -> MessageCodec.decode(term)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MessageCodec.decode(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void idsLongerThanTheLimitCannotBeEncoded() {
        String longId = "x".repeat(MessageCodec.STRING_BYTES_MAX + 1);
        assertThatThrownBy(() -> MessageCodec.encode(new Message.TimeoutNow(longId, "n2", 1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void routingSendsVotingPolicyToElectionAndTheTruthToReplication() {
        for (Message m : samples()) {
            Route expected = switch (m.kind()) {
                case PRE_VOTE_REQUEST, PRE_VOTE_RESPONSE, VOTE_RESPONSE, TIMEOUT_NOW -> Route.ELECTION;
                default -> Route.REPLICATION;
            };
            assertThat(Route.of(m)).as(m.kind().name()).isEqualTo(expected);
        }
    }
}
