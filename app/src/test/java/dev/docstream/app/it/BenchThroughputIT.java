package dev.docstream.app.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.app.cli.DocstreamCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short form of {@code docstream bench --part throughput}: a few jobs, one repetition, the
 * shipped models on real brokers. It checks the report, not the speed: every run through Kafka
 * answered all its jobs (a run that loses one waits out its timeout and fails), and the breakdown
 * accounts for the CPU of every run.
 */
class BenchThroughputIT {
  @TempDir Path dir;

  @Test
  void shouldMeasureTheModelAloneAndEveryRunThroughKafkaWithItsBreakdown() throws Exception {
    Path out = dir.resolve("out");
    int code =
        DocstreamCommand.execute(
            "bench",
            "--part",
            "throughput",
            "--jobs",
            "96",
            "--reps",
            "1",
            "--models",
            DemoIT.MODELS.toString(),
            "--work",
            dir.resolve("work").toString(),
            "--out",
            out.toString());
    assertEquals(0, code);
    JsonNode report = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
    List<String> figures = new ArrayList<>();
    report.path("figures").forEach(f -> figures.add(f.path("name").asText()));
    for (String expected :
        List.of(
            "forward per image, micro-batch 8",
            "model alone, pipelined",
            "pipeline through Kafka (intake + 1 worker), 8 document types",
            "pipeline through Kafka (intake + 1 worker), 200 document types",
            "worker alone through Kafka")) {
      assertTrue(figures.stream().anyMatch(n -> n.startsWith(expected)), expected + ": " + figures);
    }
    JsonNode runs = report.path("runs");
    assertEquals(3, runs.size());
    for (JsonNode run : runs) {
      String name = run.path("figure").path("name").asText();
      JsonNode cpu = run.path("cpuMsPerJob");
      assertTrue(run.path("figure").path("median").asDouble() > 0, name);
      assertTrue(cpu.path("worker: inference thread").asDouble() > 0, name + ": " + cpu);
      assertTrue(cpu.path("broker (child JVM)").asDouble() > 0, name + ": " + cpu);
      double parts = 0;
      for (var e : (Iterable<java.util.Map.Entry<String, JsonNode>>) cpu::fields) {
        parts += e.getKey().equals("total") ? 0 : e.getValue().asDouble();
      }
      assertEquals(cpu.path("total").asDouble(), parts, 1e-6, name + ": the groups add up");
      assertTrue(run.path("stageMsPerJob").path("forward").asDouble() > 0, name);
      assertTrue(run.path("firstResultMs").asDouble() > 0, name);
      double perBatch = run.path("jobsPerBatch").asDouble();
      assertTrue(perBatch >= 1 && perBatch <= 256, name + ": " + perBatch + " jobs per batch");
    }
    for (JsonNode ratio : report.path("ratios")) {
      double v = ratio.path("value").asDouble();
      assertTrue(v > 0 && v < 3, ratio.toString());
    }
    String md = Files.readString(out.resolve("bench.md"));
    assertTrue(md.contains("| adapter swaps per 1,000 jobs |"), md);
    assertTrue(md.contains("| CPU: broker (child JVM) |"), md);
    assertTrue(md.contains("| jobs per batch (one transaction each) |"), md);
  }
}
