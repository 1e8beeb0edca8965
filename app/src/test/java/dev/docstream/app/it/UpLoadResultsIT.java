package dev.docstream.app.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.app.cli.DocstreamCommand;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Quickstart's three commands together, with no address options: {@code up} (a child JVM, on
 * its default ports 9092 and 8081), then {@code load}, then {@code results}.
 */
class UpLoadResultsIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void shouldRunUpThenLoadThenResultsOnTheirDefaults() throws Exception {
    Path log = dir.resolve("up.log");
    Up up =
        Up.start(
            log,
            "up",
            "--data",
            dir.resolve("data").toString(),
            "--workers",
            "1",
            "--models",
            DemoIT.MODELS.toString());
    try {
      assertEquals("127.0.0.1:9092", up.bootstrap());
      assertEquals(
          0,
          DocstreamCommand.execute(
              "load",
              "--jobs",
              "20",
              "--bad",
              "0",
              "--seed",
              "4",
              "--models",
              DemoIT.MODELS.toString()));
      List<JsonNode> results = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () -> {
                results.clear();
                for (String line : capture("results", "--format", "json")) {
                  results.add(JSON.readTree(line));
                }
                return results.size() >= 20;
              });
      assertEquals(20, results.size(), "one result per job");
      assertTrue(
          results.stream().allMatch(r -> r.get("status").asText().equals("OK")),
          results.toString());
      String id = results.get(0).get("job_id").asText();
      List<String> one = capture("results", "--job-id", id, "--format", "json");
      assertEquals(1, one.size());
      List<String> table = capture("results", "--max", "3");
      assertEquals(4, table.size(), "a header and three rows: " + table);
    } finally {
      assertTrue(up.stop(), "up stops on SIGTERM");
    }
    String output = Up.output(log);
    assertTrue(
        output.contains("DocStream stopped"),
        "a stop says what stopped: " + output.substring(Math.max(0, output.length() - 500)));
  }

  /** Runs a command in this JVM and returns what it printed as its output, a line each. */
  private static List<String> capture(String... args) {
    java.io.StringWriter buffer = new java.io.StringWriter();
    assertEquals(0, DocstreamCommand.execute(new java.io.PrintWriter(buffer, true), args));
    String out = buffer.toString().strip();
    return out.isEmpty() ? List.of() : List.of(out.split("\n"));
  }
}
