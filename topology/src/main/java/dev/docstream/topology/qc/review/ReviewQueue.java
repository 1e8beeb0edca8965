package dev.docstream.topology.qc.review;

import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcLease;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The review queue's state, rebuilt from its three topics: the tasks ({@code qc.review}), who holds
 * which lease until when ({@code qc.leases}) and the verdicts ({@code qc.verdicts}). Pure and
 * thread-safe; {@link ReviewLog} feeds it and writes through it.
 *
 * <p>A task is <em>open</em> while it has no verdict and no live lease. The first verdict of a task
 * is the one that counts; a later one (a retried submit that raced) is ignored. A lease record
 * older than the one applied is ignored too, so the order in which the service's own writes and the
 * topic's records arrive does not matter.
 */
public final class ReviewQueue {
  /** A task's lease: {@code analyst} null when it was released. */
  public record Lease(String analyst, Instant leasedAt, Instant expiresAt) {
    boolean liveAt(Instant now) {
      return analyst != null && now.isBefore(expiresAt);
    }
  }

  /** One queue's figures, per document type. */
  public record QueueSummary(
      String documentType, int open, int leased, long oldestAgeSeconds, double lowestConfidence) {}

  /** A decided task with its verdict. */
  public record Reviewed(QcTask task, QcVerdict verdict) {}

  private final Map<String, QcTask> tasks = new LinkedHashMap<>();
  private final Map<String, Lease> leases = new HashMap<>();
  private final Map<String, QcVerdict> verdicts = new HashMap<>();

  /** Adds a task (the first copy of a job's task counts). */
  public synchronized void task(QcTask t) {
    tasks.putIfAbsent(t.getJobId(), t);
  }

  /** Applies a lease record unless a newer one is already applied. */
  public synchronized void lease(QcLease l) {
    Lease now = leases.get(l.getJobId());
    if (now == null || !l.getLeasedAt().isBefore(now.leasedAt())) {
      leases.put(l.getJobId(), new Lease(l.getAnalystId(), l.getLeasedAt(), l.getExpiresAt()));
    }
  }

  /** Applies a verdict; false when the task already had one. */
  public synchronized boolean verdict(QcVerdict v) {
    return verdicts.putIfAbsent(v.getJobId(), v) == null;
  }

  public synchronized Optional<QcTask> get(String jobId) {
    return Optional.ofNullable(tasks.get(jobId));
  }

  public synchronized Optional<QcVerdict> verdictOf(String jobId) {
    return Optional.ofNullable(verdicts.get(jobId));
  }

  /** Who holds a live lease on the task at {@code now}, if anyone. */
  public synchronized Optional<Lease> liveLease(String jobId, Instant now) {
    Lease l = leases.get(jobId);
    return l != null && l.liveAt(now) ? Optional.of(l) : Optional.empty();
  }

  /** The lowest confidence among a task's fields: the queue's order. */
  public static double minConfidence(QcTask t) {
    double min = 1;
    for (ExtractedField f : t.getFields()) {
      min = Math.min(min, f.getConfidence());
    }
    return min;
  }

  /**
   * The task {@code analyst} should work on next in a queue: one they already lease (a reloaded
   * page), else the open task of lowest confidence (oldest first among equals), not one in {@code
   * skipped}.
   */
  public synchronized Optional<QcTask> next(
      String documentType, String analyst, Instant now, Set<String> skipped) {
    QcTask best = null;
    for (QcTask t : tasks.values()) {
      if (!t.getDocumentType().equals(documentType) || verdicts.containsKey(t.getJobId())) {
        continue;
      }
      Lease l = leases.get(t.getJobId());
      if (l != null && l.liveAt(now)) {
        if (l.analyst().equals(analyst)) {
          return Optional.of(t);
        }
        continue;
      }
      if (skipped.contains(t.getJobId())) {
        continue;
      }
      if (best == null || ORDER.compare(t, best) < 0) {
        best = t;
      }
    }
    return Optional.ofNullable(best);
  }

  private static final Comparator<QcTask> ORDER =
      Comparator.comparingDouble(ReviewQueue::minConfidence).thenComparing(QcTask::getCreatedAt);

  /** Every queue with undecided tasks, by document type. */
  public synchronized List<QueueSummary> queues(Instant now) {
    Map<String, double[]> byType = new TreeMap<>(); // open, leased, oldest created ms, lowest conf
    for (QcTask t : tasks.values()) {
      if (verdicts.containsKey(t.getJobId())) {
        continue;
      }
      double[] q =
          byType.computeIfAbsent(
              t.getDocumentType(), k -> new double[] {0, 0, Double.MAX_VALUE, 1});
      Lease l = leases.get(t.getJobId());
      if (l != null && l.liveAt(now)) {
        q[1]++;
        continue;
      }
      q[0]++;
      q[2] = Math.min(q[2], t.getCreatedAt().toEpochMilli());
      q[3] = Math.min(q[3], minConfidence(t));
    }
    List<QueueSummary> out = new ArrayList<>();
    byType.forEach(
        (type, q) ->
            out.add(
                new QueueSummary(
                    type,
                    (int) q[0],
                    (int) q[1],
                    q[0] == 0
                        ? 0
                        : Duration.between(Instant.ofEpochMilli((long) q[2]), now).toSeconds(),
                    q[0] == 0 ? 1 : q[3])));
    return out;
  }

  /** Counts of tasks: open, leased and decided. */
  public synchronized int[] counts(Instant now) {
    int open = 0;
    int leased = 0;
    for (QcTask t : tasks.values()) {
      if (verdicts.containsKey(t.getJobId())) {
        continue;
      }
      Lease l = leases.get(t.getJobId());
      if (l != null && l.liveAt(now)) {
        leased++;
      } else {
        open++;
      }
    }
    return new int[] {open, leased, verdicts.size()};
  }

  /** Every decided task with its verdict (verdicts whose task is unknown are left out). */
  public synchronized List<Reviewed> reviewed() {
    List<Reviewed> out = new ArrayList<>();
    for (QcVerdict v : verdicts.values()) {
      QcTask t = tasks.get(v.getJobId());
      if (t != null) {
        out.add(new Reviewed(t, v));
      }
    }
    return out;
  }

  /** Every task, in arrival order. */
  public synchronized List<QcTask> tasks() {
    return List.copyOf(tasks.values());
  }

  /** How many tasks it holds. */
  public synchronized int size() {
    return tasks.size();
  }
}
