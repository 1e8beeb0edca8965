package dev.docstream.training;

import java.io.PrintStream;
import java.time.Duration;

/** A one-line progress bar on stderr: redrawn in place on a terminal, a line per update in logs. */
public final class Progress {
  private final String task;
  private final long total;
  private final long started = System.nanoTime();
  private final PrintStream out = System.err;
  private final boolean terminal = System.console() != null;

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
    String line = String.format("%s [%s%s] %3d%% %d/%d %s elapsed %s eta %s", task,
        "#".repeat(filled), ".".repeat(30 - filled), Math.round(share * 100), done, total, status,
        format(Math.round(seconds)), format(eta));
    if (terminal) {
      out.print("\r" + line);
      if (done >= total) {
        out.println();
      }
    } else {
      out.println(line);
    }
    out.flush();
  }

  private static String format(long seconds) {
    Duration d = Duration.ofSeconds(seconds);
    return String.format("%d:%02d:%02d", d.toHours(), d.toMinutesPart(), d.toSecondsPart());
  }
}
