package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.bench.BenchOptions.Consistency;
import io.cairn.bench.BenchOptions.Kind;
import io.cairn.bench.BenchOptions.Target;
import io.cairn.bench.BenchOptions.UsageException;
import io.cairn.bench.BenchOptions.Workload;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BenchOptionsTest {
    private static BenchOptions parse(String... args) {
        return BenchOptions.parse(args, 2);
    }

    @Test
    void defaults() {
        BenchOptions o = parse();
        assertThat(o.kind).isEqualTo(Kind.CAIRN);
        assertThat(o.targets).containsExactly(new Target("127.0.0.1", 8080));
        assertThat(o.workload).isEqualTo(Workload.PUT);
        assertThat(o.connections).isEqualTo(16);
        assertThat(o.threads).isEqualTo(2);
        assertThat(o.openLoop()).isFalse();
        assertThat(o.durationNanos).isEqualTo(10_000_000_000L);
        assertThat(o.warmupNanos).isEqualTo(2_000_000_000L);
        assertThat(o.valueSize).isEqualTo(256);
        assertThat(o.keys).isEqualTo(100_000);
        assertThat(o.preload).isZero();
        assertThat(o.consistency).isEqualTo(Consistency.LINEARIZABLE);
        assertThat(parse("--target-kind", "etcd").targets).containsExactly(new Target("127.0.0.1", 2379));
        assertThat(parse("--connections", "1").threads).isEqualTo(1);
        assertThat(parse("--workload", "query").preload).isEqualTo(10_000);
    }

    @Test
    void everyOptionInBothForms() {
        BenchOptions o = parse("bench", "--target-kind=etcd", "--target", "127.0.0.2:23791,127.0.0.3:23792", "--target=[::1]:5",
                "--workload", "MIXED", "--connections=64", "--threads", "4", "--rate", "2500.5", "--duration", "1.5m",
                "--warmup=500ms", "--requests", "1000", "--value-size", "1k", "--keys", "5000", "--preload", "2000",
                "--read-fraction", "0.9", "--consistency", "local", "--collection", "c_1", "--query-limit", "10",
                "--key-prefix", "k/", "--timeout", "2s", "--seed", "-7", "--output", "csv");
        assertThat(o.kind).isEqualTo(Kind.ETCD);
        assertThat(o.targets).containsExactly(new Target("127.0.0.2", 23791), new Target("127.0.0.3", 23792), new Target("::1", 5));
        assertThat(o.targets.get(2).toString()).isEqualTo("[::1]:5");
        assertThat(o.workload).isEqualTo(Workload.MIXED);
        assertThat(o.connections).isEqualTo(64);
        assertThat(o.threads).isEqualTo(4);
        assertThat(o.rate).isEqualTo(2500.5);
        assertThat(o.openLoop()).isTrue();
        assertThat(o.durationNanos).isEqualTo(90_000_000_000L);
        assertThat(o.warmupNanos).isEqualTo(500_000_000L);
        assertThat(o.maxRequests).isEqualTo(1000);
        assertThat(o.valueSize).isEqualTo(1024);
        assertThat(o.keys).isEqualTo(5000);
        assertThat(o.preload).isEqualTo(2000);
        assertThat(o.readKeySpace()).isEqualTo(2000);
        assertThat(o.readFraction).isEqualTo(0.9);
        assertThat(o.consistency).isEqualTo(Consistency.LOCAL);
        assertThat(o.collection).isEqualTo("c_1");
        assertThat(o.queryLimit).isEqualTo(10);
        assertThat(o.keyPrefix).isEqualTo("k/");
        assertThat(o.timeoutNanos).isEqualTo(2_000_000_000L);
        assertThat(o.seed).isEqualTo(-7);
        assertThat(o.output).isEqualTo(BenchOptions.Output.CSV);
        assertThat(o.describe()).contains("kind=etcd", "workload=mixed", "mode=open", "127.0.0.2:23791;127.0.0.3:23792");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--bogus 1                                   | unknown option --bogus",
        "--connections                               | --connections needs a value",
        "stray                                       | unexpected argument 'stray'",
        "--connections 0                             | --connections must be in 1..10000",
        "--connections many                          | --connections must be a whole number",
        "--connections 2 --threads 3                 | must not exceed --connections",
        "--workload scan                             | --workload must be one of put|get|query|mixed",
        "--target-kind redis                         | --target-kind must be one of cairn|etcd",
        "--target localhost                          | is not HOST:PORT",
        "--target 127.0.0.1:                         | is not HOST:PORT",
        "--target :80                                | is not HOST:PORT",
        "--target 127.0.0.1:70000                    | --target must be in 1..65535",
        "--target 127.0.0.1:http                     | --target must be a whole number",
        "--duration 10x                              | --duration must be a duration",
        "--duration 0                                | --duration must be at least 1ms",
        "--duration -1s                              | --duration must be a duration",
        "--duration 1e9h                             | --duration must be a duration",
        "--duration 25h                              | --duration must be between 0 and 24h",
        "--duration 2d                               | --duration must be a duration",
        "--warmup 23h --duration 2h                  | must not exceed 24h",
        "--timeout 0s                                | --timeout must be at least 1ms",
        "--value-size 0                              | --value-size must be in 1..1048576",
        "--value-size 2m                             | --value-size must be in 1..1048576",
        "--value-size big                            | --value-size must be a size",
        "--rate -5                                   | --rate must be in",
        "--rate fast                                 | --rate must be a number",
        "--rate 5d                                   | --rate must be a number",
        "--rate NaN                                  | --rate must be a number",
        "--read-fraction 0.5                         | --read-fraction applies to --workload mixed only",
        "--workload mixed --read-fraction 1.5        | --read-fraction must be in 0.0..1.0",
        "--consistency local                         | --consistency applies to reads",
        "--workload get --consistency strong         | --consistency must be one of linearizable|lease|local",
        "--target-kind etcd --workload get --consistency lease | etcd's gateway has no lease reads",
        "--keys 10 --preload 11                      | --preload (11) must not exceed --keys (10)",
        "--workload query --preload 50               | query needs --preload of at least --query-limit (100)",
        "--collection 9lives                         | --collection must match",
        "--key-prefix=                               | --key-prefix must be 1..400 characters",
        "--output xml                                | --output must be one of text|csv",
        "--requests -1                               | --requests must be in 0..",
    })
    void rejects(String args, String message) {
        assertThatThrownBy(() -> parse(args.trim().split("\\s+")))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining(message.trim());
    }

    @Test
    void runReportsUsageErrorsWithExitCode2AndHelpWith0() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Bench.run(new String[] {"--connections", "0"}, new PrintStream(out, true), new PrintStream(err, true));
        assertThat(rc).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--connections must be in 1..10000");
        assertThat(out.size()).isZero();

        rc = Bench.run(new String[] {"--help"}, new PrintStream(out, true), new PrintStream(err, true));
        assertThat(rc).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("Usage: cairn bench", "--target-kind");
    }

    @Test
    void sizesAndDurations() {
        assertThat(BenchOptions.size("x", "4K", 1, 1 << 20)).isEqualTo(4096);
        assertThat(BenchOptions.size("x", "1M", 1, 1 << 20)).isEqualTo(1 << 20);
        assertThat(BenchOptions.duration("x", "250ms", false)).isEqualTo(250_000_000L);
        assertThat(BenchOptions.duration("x", "2", false)).isEqualTo(2_000_000_000L);
        assertThat(BenchOptions.duration("x", "0", true)).isZero();
        assertThat(BenchOptions.duration("x", "1h", false)).isEqualTo(3_600_000_000_000L);
        assertThat(List.of(BenchOptions.target("127.0.0.9:1"))).containsExactly(new Target("127.0.0.9", 1));
    }
}
