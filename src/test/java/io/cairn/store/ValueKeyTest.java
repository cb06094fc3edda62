package io.cairn.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** The byte order of {@link ValueKey} equals the API value order of the reference comparator. */
class ValueKeyTest {
    @Provide
    Arbitrary<Object> scalars() {
        Arbitrary<Object> longs = Arbitraries.longs().map(l -> (Object) l);
        Arbitrary<Object> smallLongs = Arbitraries.longs().between(-20, 20).map(l -> (Object) l);
        Arbitrary<Object> bigInts = Arbitraries.bigIntegers().between(new BigInteger("-1" + "0".repeat(40)), new BigInteger("1" + "0".repeat(40)))
                .map(b -> (Object) b);
        Arbitrary<Object> decimals = net.jqwik.api.Combinators.combine(Arbitraries.longs().between(-100_000, 100_000),
                Arbitraries.integers().between(-500, 500)).as((u, sc) -> (Object) new BigDecimal(BigInteger.valueOf(u), sc));
        Arbitrary<Object> strings = Arbitraries.strings().all().ofMaxLength(6)
                .filter(Validation::isWellFormed).map(s -> (Object) s);
        Arbitrary<Object> fixed = Arbitraries.<Object>of(Arrays.<Object>asList(true, false, "", "\uFFFF", "\uD83D\uDE00", "a\u0000"))
                .injectNull(0.1);
        return Arbitraries.oneOf(longs, smallLongs, bigInts, decimals, strings, fixed);
    }

    @Property(tries = 2000)
    void byteOrderIsValueOrder(@ForAll("scalars") Object a, @ForAll("scalars") Object b) {
        int expect = Integer.signum(Model.compareValues(a, b));
        int got = Integer.signum(Arrays.compareUnsigned(ValueKey.encode(a), ValueKey.encode(b)));
        assertThat(got).as("%s vs %s", a, b).isEqualTo(expect);
    }

    @Property(tries = 500)
    void numbersRoundTrip(@ForAll("scalars") Object a) {
        if (!(a instanceof Number)) return;
        Object back = ValueKey.decode(ValueKey.encode(a));
        assertThat(Model.dec(a).compareTo((BigDecimal) back)).isZero();
    }

    @Property(tries = 500)
    void longFastPathEqualsDecimalPath(@ForAll long l) {
        assertThat(ValueKey.encode(l)).isEqualTo(ValueKey.encodeNumber(BigDecimal.valueOf(l)));
    }

    @Test
    void examples() {
        List<Object> ordered = Arrays.asList(null, false, true, new BigDecimal("-1E+400"), -3L, new BigDecimal("-2.5"),
                new BigDecimal("-0.123"), new BigDecimal("-0.12"), 0L, new BigDecimal("1E-400"), new BigDecimal("0.5"), 1L, new BigDecimal("1.5"),
                2L, 10L, Long.MAX_VALUE, new BigInteger("123456789012345678901234567890"), new BigDecimal("1E+400"),
                "", "A", "a", "ab", "b", "\u00e4", "\uFFFF", "\uD83D\uDE00");
        for (int i = 0; i + 1 < ordered.size(); i++) {
            assertThat(Arrays.compareUnsigned(ValueKey.encode(ordered.get(i)), ValueKey.encode(ordered.get(i + 1))))
                    .as("%s < %s", ordered.get(i), ordered.get(i + 1)).isNegative();
        }
        assertThat(ValueKey.encode(1L)).isEqualTo(ValueKey.encode(new BigDecimal("1.0")))
                .isEqualTo(ValueKey.encode(new BigDecimal("10E-1"))).isEqualTo(ValueKey.encode(BigInteger.ONE));
        assertThat(ValueKey.encode(List.of())).isNull();
        assertThat(ValueKey.encode(java.util.Map.of())).isNull();
        // A huge exponent costs nothing: no expansion to digits.
        assertThat(ValueKey.encode(new BigDecimal("1E+999999999"))).hasSize(10);
    }
}
