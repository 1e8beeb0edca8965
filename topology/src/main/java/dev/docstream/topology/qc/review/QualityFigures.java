package dev.docstream.topology.qc.review;

import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Verdict;
import dev.docstream.topology.qc.QcSampler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What analysts' verdicts say about each adapter version: per document type, adapter and field, the
 * reviewed count and accuracy with a 95 % Wilson interval; calibration (fields binned by
 * confidence, predicted against observed, and the expected calibration error); and accuracy over
 * time.
 *
 * <p>The random-audit sample (tasks with RANDOM among their reasons: the decision is a hash of the
 * job id, independent of the result) is kept apart from the targeted one (sampled for low
 * confidence, a new adapter or a fallback), which is biased towards errors. A field is right when
 * the verdict is CORRECT, or CORRECTED without a correction of that field to another value;
 * UNREADABLE verdicts say nothing about the fields and are only counted.
 */
public final class QualityFigures {
  /** The sample kinds. */
  public static final String AUDIT = "AUDIT";

  public static final String TARGETED = "TARGETED";

  /** The row over all of an adapter's fields. */
  public static final String ALL_FIELDS = "ALL";

  private static final double Z = 1.959964;
  private static final int BINS = 10;

  /** One row: accuracy of an adapter version on one field (or ALL) in one sample. */
  public record Row(
      String documentType,
      String adapterId,
      Integer adapterVersion,
      String field,
      String sample,
      int reviewed,
      int correct,
      double accuracy,
      double low,
      double high) {}

  /** One confidence bin. */
  public record Bin(double lo, double hi, int count, double meanConfidence, double accuracy) {}

  /** An adapter's reliability diagram in one sample. */
  public record Calibration(String adapterId, String sample, double ece, List<Bin> bins) {}

  /** Accuracy (all fields) of an adapter in one time bucket. */
  public record Point(String adapterId, long bucketStart, int reviewed, double accuracy) {}

  /** Everything, as the quality page and the metrics show it. */
  public record Figures(
      List<Row> rows,
      List<Calibration> calibration,
      List<Point> timeline,
      Map<String, Integer> unreadable,
      Map<String, Integer> tasks) {}

  private QualityFigures() {}

  /** Whether a task belongs to the unbiased audit sample. */
  public static String sampleOf(QcTask t) {
    return t.getSampleReasons().contains(QcSampler.RANDOM)
            || QcSampler.RANDOM.equals(t.getSampleReason())
        ? AUDIT
        : TARGETED;
  }

  /** Whether the analyst found the field right. */
  public static boolean fieldCorrect(ExtractedField predicted, QcVerdict v) {
    if (v.getVerdict() == Verdict.CORRECT) {
      return true;
    }
    for (ExtractedField c : v.getCorrections()) {
      if (c.getField() == predicted.getField()) {
        return Objects.equals(c.getValue(), predicted.getValue());
      }
    }
    return true;
  }

  /** The 95 % Wilson score interval of {@code correct} successes in {@code n}: {low, high}. */
  public static double[] wilson(int correct, int n) {
    if (n == 0) {
      return new double[] {0, 1};
    }
    double p = (double) correct / n;
    double z2 = Z * Z;
    double centre = (p + z2 / (2.0 * n)) / (1 + z2 / n);
    double half = Z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
    return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
  }

  /**
   * The figures of the reviewed tasks.
   *
   * @param bucketMillis the width of the timeline's buckets (by verdict time)
   * @param tasks counts of open, leased and decided tasks, shown beside the figures
   */
  public static Figures of(List<ReviewQueue.Reviewed> reviewed, long bucketMillis, int[] tasks) {
    Map<List<Object>, int[]> counts = new TreeMap<>(QualityFigures::compareKeys);
    Map<List<String>, List<double[]>> points = new TreeMap<>(QualityFigures::compareKeys);
    Map<List<Object>, int[]> timeline = new TreeMap<>(QualityFigures::compareKeys);
    Map<String, Integer> unreadable = new TreeMap<>();
    for (ReviewQueue.Reviewed r : reviewed) {
      QcTask t = r.task();
      String adapter = t.getAdapterId() == null ? "base" : t.getAdapterId();
      if (r.verdict().getVerdict() == Verdict.UNREADABLE) {
        unreadable.merge(adapter, 1, Integer::sum);
        continue;
      }
      String sample = sampleOf(t);
      long bucket = r.verdict().getDecidedAt().toEpochMilli() / bucketMillis * bucketMillis;
      int[] time = timeline.computeIfAbsent(List.of(adapter, bucket), k -> new int[2]);
      for (ExtractedField f : t.getFields()) {
        boolean ok = fieldCorrect(f, r.verdict());
        for (String field : List.of(f.getField().name(), ALL_FIELDS)) {
          List<Object> key = new ArrayList<>();
          key.add(t.getDocumentType());
          key.add(adapter);
          key.add(t.getAdapterVersion() == null ? -1 : t.getAdapterVersion());
          key.add(field);
          key.add(sample);
          int[] c = counts.computeIfAbsent(key, k -> new int[2]);
          c[0]++;
          c[1] += ok ? 1 : 0;
        }
        points
            .computeIfAbsent(List.of(adapter, sample), k -> new ArrayList<>())
            .add(new double[] {f.getConfidence(), ok ? 1 : 0});
        time[0]++;
        time[1] += ok ? 1 : 0;
      }
    }
    List<Row> rows = new ArrayList<>();
    counts.forEach(
        (k, c) -> {
          double[] ci = wilson(c[1], c[0]);
          int version = (Integer) k.get(2);
          rows.add(
              new Row(
                  (String) k.get(0),
                  (String) k.get(1),
                  version < 0 ? null : version,
                  (String) k.get(3),
                  (String) k.get(4),
                  c[0],
                  c[1],
                  (double) c[1] / c[0],
                  ci[0],
                  ci[1]));
        });
    List<Calibration> calibration = new ArrayList<>();
    points.forEach((k, p) -> calibration.add(calibrate(k.get(0), k.get(1), p)));
    List<Point> series = new ArrayList<>();
    timeline.forEach(
        (k, c) ->
            series.add(
                new Point(
                    (String) k.get(0),
                    (Long) k.get(1),
                    c[0],
                    c[0] == 0 ? 0 : (double) c[1] / c[0])));
    Map<String, Integer> taskCounts = new HashMap<>();
    taskCounts.put("open", tasks[0]);
    taskCounts.put("leased", tasks[1]);
    taskCounts.put("decided", tasks[2]);
    return new Figures(rows, calibration, series, unreadable, taskCounts);
  }

  /** Ten equal-width confidence bins; ECE = sum of |accuracy - confidence| weighted by count. */
  static Calibration calibrate(String adapter, String sample, List<double[]> points) {
    int[] n = new int[BINS];
    double[] conf = new double[BINS];
    double[] right = new double[BINS];
    for (double[] p : points) {
      int b = Math.min(BINS - 1, (int) (p[0] * BINS));
      n[b]++;
      conf[b] += p[0];
      right[b] += p[1];
    }
    List<Bin> bins = new ArrayList<>();
    double ece = 0;
    for (int b = 0; b < BINS; b++) {
      if (n[b] == 0) {
        continue;
      }
      double mean = conf[b] / n[b];
      double acc = right[b] / n[b];
      ece += (double) n[b] / points.size() * Math.abs(acc - mean);
      bins.add(new Bin((double) b / BINS, (double) (b + 1) / BINS, n[b], mean, acc));
    }
    return new Calibration(adapter, sample, ece, bins);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compareKeys(List<?> a, List<?> b) {
    for (int i = 0; i < a.size(); i++) {
      int c = ((Comparable) a.get(i)).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }
}
