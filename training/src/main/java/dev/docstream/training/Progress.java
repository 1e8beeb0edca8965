package dev.docstream.training;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A one-line progress bar on stderr: redrawn in place on a terminal; written to a file or a pipe, a
 * line every {@link #LOG_EVERY} and one at the end, not one per update.
 */
public final class Progress {
  private final String task;
  private final long total;
  private final long started = System.nanoTime();
  private final PrintStream out = System.err;
  private final boolean terminal = System.console() != null;

  /** How often a progress line is written when stderr is not a terminal. */
  public static final Duration LOG_EVERY = Duration.ofSeconds(10);

  private long lastLine = started - LOG_EVERY.toNanos(); // the first update writes a line

  public Progress(String task, long total) {
    this.task = task;
    this.total = total;
  }

  /** Shows progress after {@code done} units, with a free-form status. */
  public void update(long done, String status) {
    double seconds = (System.nanoTime() - started) / 1e9;
    double share = total == 0 ? 1 : (double) done / total;
    long eta = done == 0 ? 0 : Math.round(seconds / done * (total - done));
    int filled = (int) Math.round(share * 30);
    String line =
        String.format(
            "%s [%s%s] %3d%% %d/%d %s elapsed %s eta %s",
            task,
            "#".repeat(filled),
            ".".repeat(30 - filled),
            Math.round(share * 100),
            done,
            total,
            status,
            format(Math.round(seconds)),
            format(eta));
    if (terminal) {
      out.print("\r" + line);
      if (done >= total) {
        out.println();
      }
    } else if (done >= total || System.nanoTime() - lastLine >= LOG_EVERY.toNanos()) {
      out.println(line);
      lastLine = System.nanoTime();
    }
    out.flush();
  }

  private static String format(long seconds) {
    Duration d = Duration.ofSeconds(seconds);
    return String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
  }
}
