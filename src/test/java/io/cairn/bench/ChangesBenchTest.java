package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.Await;
import io.cairn.Cairn;
import io.cairn.config.ConfigLoader;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn bench changes} against a real single node: every write reaches every subscriber, and it says so. */
class ChangesBenchTest {
    @TempDir Path dir;

    @Test
    void everySubscriberGetsEveryAcknowledgedWriteAndTheToolReportsBothLags() throws Exception {
        Vertx server = Vertx.vertx();
        try {
            var config = ConfigLoader.load(dir, null, Map.of("CAIRN_DATA_DIR", dir.resolve("d").toString(),
                    "CAIRN_HTTP_HOST", "127.0.0.1", "CAIRN_HTTP_PORT", "0", "CAIRN_RAFT_HOST", "127.0.0.1", "CAIRN_RAFT_PORT", "0",
                    "CAIRN_API_INSTANCES", "1"));
            Cairn cairn = Cairn.start(server, config).await(60, TimeUnit.SECONDS);
            Await.until("leadership", () -> cairn.node().state().isLeader());

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = ChangesBench.run(new String[] {"--target", "127.0.0.1:" + cairn.httpPort(), "--subscribers", "5",
                    "--rate", "100", "--duration", "2", "--warmup", "1", "--connections", "4", "--drain", "30"},
                    new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            String report = out.toString(StandardCharsets.UTF_8);
            assertThat(code).as("exit code; report:%n%s%nerrors:%n%s", report, err.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(report).contains("5 subscribers connected", "300 sent at 100/s", "300 acknowledged, 0 failed",
                    "deliveries: 1500 of 1500", "0 subscribers short; 0 out of order or repeated",
                    "seconds (from the first write sent) whose slowest write took 250 ms or more, ms:");
            Matcher sendLag = Pattern.compile("lag from a write's send to its receipt, ms: p50 ([0-9.]+)").matcher(report);
            Matcher answerLag = Pattern.compile("lag from a write's answer to its receipt \\(0 if the change came first\\), ms: p50 ([0-9.]+)")
                    .matcher(report);
            assertThat(sendLag.find()).as(report).isTrue();
            assertThat(answerLag.find()).as(report).isTrue();
            assertThat(Double.parseDouble(sendLag.group(1))).as("a receipt comes after its send").isPositive();
            assertThat(Double.parseDouble(answerLag.group(1))).as("the lag after the answer is part of the lag after the send")
                    .isLessThanOrEqualTo(Double.parseDouble(sendLag.group(1)));
        } finally {
            server.close().await(30, TimeUnit.SECONDS);
        }
    }
}
