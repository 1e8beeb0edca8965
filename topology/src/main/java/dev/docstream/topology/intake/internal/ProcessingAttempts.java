package dev.docstream.topology.intake.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts how often each input record (topic, partition, offset) was started and not finished. When
 * processing a record fails in a way nobody caught (a bug, an {@code Error}), Kafka Streams
 * replaces the thread and the task reads the same record again; without a count it would fail again
 * forever and the records behind it on its partition would never be processed. Counting starts, not
 * failures, covers every way a record can fail, including errors that kill the thread. Shared by
 * all stream threads of one intake instance; bounded in entries.
 */
public final class ProcessingAttempts {
  /** Records remembered at most; the oldest are forgotten first. */
  static final int MAX_TRACKED = 10_000;

  private final int maxAttempts;
  private final Map<String, Integer> started =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
          return size() > MAX_TRACKED;
        }
      };

  /**
   * @param maxAttempts starts after which a record is given up on
   */
  public ProcessingAttempts(int maxAttempts) {
    this.maxAttempts = maxAttempts;
  }

  /** The key of one input record. */
  public static String key(String topic, int partition, long offset) {
    return topic + "-" + partition + "@" + offset;
  }

  /**
   * Records a start of {@code record}; false when it has already been started {@code maxAttempts}
   * times without finishing, and must be given up on (call {@link #finish} once it is set aside).
   */
  public synchronized boolean start(String record) {
    int before = started.getOrDefault(record, 0);
    if (before >= maxAttempts) {
      return false; // kept until finish(): if writing its dead letter fails, it is still given up
      // on
    }
    started.put(record, before + 1);
    return true;
  }

  /** Starts after which a record is given up on. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** Attempts started so far for {@code record}. */
  public synchronized int attempts(String record) {
    return started.getOrDefault(record, 0);
  }

  /** The record was processed (or failed for a reason that is not its own): forget it. */
  public synchronized void finish(String record) {
    started.remove(record);
  }
}
