package dev.docstream.app;

import dev.docstream.app.qc.Analysts;
import dev.docstream.app.qc.ReviewService;
import dev.docstream.app.qc.SimulatedAnalyst;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.topology.qc.QcRouterConfig;
import dev.docstream.topology.qc.review.QualityFigures;
import dev.docstream.topology.qc.review.ReviewQueue;
import java.io.IOException;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The demo's QC loop: the router and the review service on the demo's stack, and simulated analysts
 * who answer from the generator's ground truth (with an error rate) through the review page's API.
 * Its summary puts each adapter's accuracy as the audit sample estimates it beside the accuracy the
 * ground truth gives for all of its results.
 */
public final class DemoQc {
  /** How the demo runs QC. */
  public record Settings(int analysts, double errorRate, double auditShare) {}

  /** One adapter's quality, by the analysts and by the ground truth. */
  public record AdapterQuality(
      String adapterId,
      int auditFields,
      double auditAccuracy,
      double auditLow,
      double auditHigh,
      int targetedFields,
      double targetedAccuracy,
      double auditCalibrationError,
      double trueAccuracy) {}

  /** What QC did in the demo. */
  public record Summary(
      int tasks,
      Map<String, Integer> tasksByReason,
      int reviewed,
      int analysts,
      double analystErrorRate,
      double reviewSeconds,
      List<AdapterQuality> adapters) {}

  private final ReviewService review;
  private final List<SimulatedAnalyst> analysts = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Settings settings;

  private DemoQc(ReviewService review, Settings settings) {
    this.review = review;
    this.settings = settings;
  }

  /**
   * Starts the router and the review service on the stack: tasks queue up while the jobs run. The
   * analysts start in {@link #finish}, once the results are in, so that the pipeline's figures are
   * measured without them (people review at their own pace; a program would compete for the CPU).
   */
  static DemoQc start(EmbeddedStack stack, Settings s) throws IOException {
    Map<String, String> logins = new TreeMap<>();
    for (int i = 0; i < s.analysts(); i++) {
      logins.put("sim-analyst-" + (i + 1), Analysts.randomPassword());
    }
    ReviewService review =
        stack.startQc(
            Map.of(QcRouterConfig.RANDOM_SHARE_CONFIG, String.valueOf(s.auditShare())), 0, logins);
    DemoQc qc = new DemoQc(review, s);
    qc.logins = logins;
    return qc;
  }

  private Map<String, String> logins;

  /** Whether tasks are still coming in or waiting; settles once the router has caught up. */
  private long lastSize = -1;

  private long lastChange = System.nanoTime();

  private synchronized boolean busy() {
    ReviewQueue q = review.log().queue();
    int[] counts = q.counts(Instant.now());
    if (q.size() != lastSize) {
      lastSize = q.size();
      lastChange = System.nanoTime();
    }
    return counts[0] + counts[1] > 0 || System.nanoTime() - lastChange < 3_000_000_000L;
  }

  /** Runs the analysts until the queues are empty and the router has caught up, then sums up. */
  Summary finish(Map<String, LoadGenerator.Job> good, Map<String, ExtractionResult> byJob) {
    long t0 = System.nanoTime();
    URI base = URI.create("http://localhost:" + review.port());
    int seed = 0;
    for (Map.Entry<String, String> login : logins.entrySet()) {
      SimulatedAnalyst a =
          new SimulatedAnalyst(
              base,
              login.getKey(),
              login.getValue(),
              id -> good.containsKey(id) ? good.get(id).truth() : null,
              settings.errorRate(),
              seed++,
              this::busy);
      Thread t = new Thread(a, "demo-" + login.getKey());
      t.setDaemon(true);
      t.start();
      analysts.add(a);
      threads.add(t);
    }
    for (Thread t : threads) {
      try {
        t.join(120_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    ReviewQueue q = review.log().queue();
    Map<String, Integer> byReason = new TreeMap<>();
    q.tasks().forEach(t -> reasons(t).forEach(x -> byReason.merge(x, 1, Integer::sum)));
    QualityFigures.Figures f = review.server().figures();
    Map<String, int[]> truth = new TreeMap<>();
    for (ExtractionResult r : byJob.values()) {
      LoadGenerator.Job j = good.get(r.getJobId());
      if (j == null || r.getStatus() != ResultStatus.OK) {
        continue;
      }
      int[] t =
          truth.computeIfAbsent(
              r.getAdapterId() == null ? "base" : r.getAdapterId(), k -> new int[2]);
      for (ExtractedField x : r.getFields()) {
        t[0]++;
        t[1] += j.truth().get(x.getField()).equals(x.getValue()) ? 1 : 0;
      }
    }
    List<AdapterQuality> adapters = new ArrayList<>();
    truth.forEach(
        (adapter, t) -> {
          QualityFigures.Row audit = row(f, adapter, QualityFigures.AUDIT);
          QualityFigures.Row targeted = row(f, adapter, QualityFigures.TARGETED);
          double ece =
              f.calibration().stream()
                  .filter(
                      c -> c.adapterId().equals(adapter) && c.sample().equals(QualityFigures.AUDIT))
                  .mapToDouble(QualityFigures.Calibration::ece)
                  .findFirst()
                  .orElse(Double.NaN);
          adapters.add(
              new AdapterQuality(
                  adapter,
                  audit == null ? 0 : audit.reviewed(),
                  audit == null ? Double.NaN : audit.accuracy(),
                  audit == null ? Double.NaN : audit.low(),
                  audit == null ? Double.NaN : audit.high(),
                  targeted == null ? 0 : targeted.reviewed(),
                  targeted == null ? Double.NaN : targeted.accuracy(),
                  ece,
                  (double) t[1] / t[0]));
        });
    int reviewed = analysts.stream().mapToInt(SimulatedAnalyst::reviewed).sum();
    return new Summary(
        q.size(), byReason, reviewed, settings.analysts(), settings.errorRate(), seconds, adapters);
  }

  private static List<String> reasons(QcTask t) {
    return t.getSampleReasons().isEmpty() ? List.of(t.getSampleReason()) : t.getSampleReasons();
  }

  private static QualityFigures.Row row(QualityFigures.Figures f, String adapter, String sample) {
    return f.rows().stream()
        .filter(
            r ->
                r.adapterId().equals(adapter)
                    && r.sample().equals(sample)
                    && r.field().equals(QualityFigures.ALL_FIELDS))
        .findFirst()
        .orElse(null);
  }
}
