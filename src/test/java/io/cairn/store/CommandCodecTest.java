package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class CommandCodecTest {
    @Provide
    Arbitrary<Command> commands() {
        return StoreModelPropertyTest.arbCommand();
    }

    @Property(tries = 300)
    void roundTrips(@ForAll("commands") Command c) {
        assertThat(CommandCodec.decode(CommandCodec.encode(c))).isEqualTo(c);
    }

    @Property(tries = 40)
    void damagedBytesAreBadRequestOrACommand(@ForAll("commands") Command c, @ForAll long seed) {
        byte[] good = CommandCodec.encode(c);
        Random rnd = new Random(seed);
        for (int cut = 0; cut < good.length; cut++) {
            byte[] part = Arrays.copyOf(good, cut);
            assertThatThrownBy(() -> CommandCodec.decode(part)).isInstanceOfSatisfying(CairnException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST));
        }
        for (int t = 0; t < 20; t++) {
            byte[] bad = good.clone();
            bad[rnd.nextInt(bad.length)] = (byte) rnd.nextInt(256);
            try {
                CommandCodec.decode(bad);
            } catch (CairnException e) {
                assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST);
            }
        }
        byte[] trailing = Arrays.copyOf(good, good.length + 1);
        assertThatThrownBy(() -> CommandCodec.decode(trailing)).isInstanceOf(CairnException.class);
    }

    @Test
    void hostileHeaders() {
        assertThatThrownBy(() -> CommandCodec.decode(new byte[0])).isInstanceOf(CairnException.class);
        assertThatThrownBy(() -> CommandCodec.decode(new byte[] {2, 6, 0, 0, 0, 0, 0, 0, 0, 0}))
                .hasMessageContaining("version");
        // A Txn claiming 2^31 ops in a handful of bytes.
        byte[] huge = {1, 5, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
        assertThatThrownBy(() -> CommandCodec.decode(huge)).hasMessageContaining("count");
        // Invalid UTF-8 in a name.
        byte[] badUtf8 = {1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, (byte) 0xC3, (byte) 0x28};
        assertThatThrownBy(() -> CommandCodec.decode(badUtf8)).hasMessageContaining("UTF-8");
        Command ok = new Command.CreateCollection("c", List.of(IndexSpec.of("i", true, "a.b", "c")), 42);
        assertThat(CommandCodec.decode(CommandCodec.encode(ok))).isEqualTo(ok);
    }
}
