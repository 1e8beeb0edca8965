package dev.docstream.app.it;

import static org.awaitility.Awaitility.await;

import dev.docstream.app.cli.Docstream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/** A {@code docstream up} in a child JVM, as a user runs it, and what its banner said. */
record Up(Process process, Path log, double readySeconds, String bootstrap, String registry) {
  private static final Pattern READY = Pattern.compile("ready in ([0-9.]+) s");

  /**
   * Starts {@code docstream <args>} (output to {@code log}) and returns once it printed its banner.
   */
  static Up start(Path log, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx3g",
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Djava.awt.headless=true",
                "-cp",
                System.getProperty("java.class.path"),
                Docstream.class.getName()));
    cmd.addAll(List.of(args));
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !p.isAlive() || output(log).contains("  document types:"));
    } catch (ConditionTimeoutException e) {
      p.destroyForcibly();
      throw new AssertionError("up did not come up: " + output(log), e);
    }
    String out = output(log);
    if (!p.isAlive()) {
      throw new AssertionError("up exited (" + p.exitValue() + ") before it was ready: " + out);
    }
    Matcher m = READY.matcher(out);
    return new Up(
        p,
        log,
        m.find() ? Double.parseDouble(m.group(1)) : -1,
        after(out, "bootstrap servers:"),
        after(out, "schema registry:"));
  }

  private static String after(String out, String label) {
    int at = out.indexOf(label);
    return at < 0 ? null : out.substring(at + label.length(), out.indexOf('\n', at)).trim();
  }

  /** Stops the child cleanly (SIGTERM) and waits until it exited. */
  boolean stop() throws InterruptedException {
    process.destroy();
    return process.waitFor(60, TimeUnit.SECONDS);
  }

  /** The child's whole output so far. */
  static String output(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
