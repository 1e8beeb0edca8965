package dev.docstream.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code docstream simulate}: its arguments, and a small run's report files. */
class SimulateCommandTest {
  private static final Path COSTS =
      Path.of("..", "docs", "benchmarks", "bench-standard-merge-2core-cpu.json");

  @TempDir Path dir;

  private record Run(int code, String err) {}

  private static Run run(String... args) {
    StringWriter err = new StringWriter();
    int code =
        DocstreamCommand.execute(
            new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
    return new Run(code, err.toString());
  }

  private static void assertUsage(Run r, String expected) {
    assertEquals(DocstreamCommand.USAGE, r.code(), r.err());
    assertTrue(r.err().contains(expected), r.err());
  }

  @Test
  void shouldRefuseBadArgumentsBeforeSimulating() {
    assertUsage(run("simulate", "--configs", "8y2"), "PARTITIONSxWORKERS");
    assertUsage(run("simulate", "--policies", "merged,sometimes"), "sometimes");
    assertUsage(run("simulate", "--load", "0"), "--load");
    assertUsage(
        run("simulate", "--costs", dir.resolve("missing.json").toString()), "no bench report");
  }

  @Test
  void shouldWriteTheTableTheJsonAndThePlot() throws Exception {
    Path out = dir.resolve("out");
    Run r =
        run(
            "simulate",
            "--types",
            "60",
            "--jobs",
            "3000",
            "--configs",
            "4x2",
            "--loads",
            "0.5,0.8",
            "--costs",
            COSTS.toString(),
            "--out",
            out.toString());
    assertEquals(0, r.code(), r.err());
    String md = Files.readString(out.resolve("simulate.md"));
    for (String row :
        new String[] {
          "| merged | zipf |",
          "| unmerged | zipf |",
          "| hybrid | zipf |",
          "top 10 types over 4 keys"
        }) {
      assertTrue(md.contains(row), "missing " + row + " in\n" + md);
    }
    assertTrue(md.contains("hybrid / best of merged and unmerged"), md);
    BufferedImage png = ImageIO.read(out.resolve("simulate-p95.png").toFile());
    assertEquals(900, png.getWidth());
    String json = Files.readString(out.resolve("simulate.json"));
    assertTrue(json.contains("\"swaps\"") && json.contains("\"p95QueueMs\""), json);
  }
}
