package dev.docstream.training;

import dev.docstream.adapters.AdapterConfig;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.function.DoubleFunction;

/**
 * Calibration by temperature, as numbers: the temperature T under which field confidences best
 * predict whether each field was read right (least negative log-likelihood of the right/wrong
 * outcomes), and the expected calibration error that reports how far confidences are from the
 * accuracy they promise.
 *
 * <p>How a confidence depends on T is the caller's ({@code confidencesAt}): for DocStream it is the
 * decoder's text probability with the field's frame scores divided by T (see {@code
 * OutputDecoder}), which has no closed form in T, so the fit is a 1-D search: a log grid over the
 * range an adapter config accepts, then golden-section search in the grid cell around the best
 * point.
 */
public final class TemperatureFit {
  /** Equal-width confidence bins of the expected calibration error. */
  public static final int ECE_BINS = 10;

  /**
   * Confidences are clamped to [EPSILON, 1 - EPSILON] in the likelihood: a field read at confidence
   * 1 and wrong costs 13.8 nats, not infinity, so one such field cannot decide the fit alone.
   */
  static final double EPSILON = 1e-6;

  private static final int GRID = 25;
  private static final double TOLERANCE = 1e-4; // in log T
  private static final double GOLDEN = (Math.sqrt(5) - 1) / 2;

  private TemperatureFit() {}

  /**
   * The temperature in [{@link AdapterConfig#MIN_TEMPERATURE}, {@link
   * AdapterConfig#MAX_TEMPERATURE}] that minimises {@link #negativeLogLikelihood} of {@code
   * correct} under {@code confidencesAt(T)}, to three significant digits. When every field or no
   * field is right the likelihood has no optimum inside the range (it only grows towards one end),
   * and the confidences are left as they are: 1.
   *
   * @param confidencesAt each field's confidence at a temperature, in the order of {@code correct}
   */
  public static double fit(DoubleFunction<double[]> confidencesAt, boolean[] correct) {
    int right = 0;
    for (boolean c : correct) {
      right += c ? 1 : 0;
    }
    if (right == 0 || right == correct.length) {
      return 1;
    }
    DoubleFunction<Double> loss =
        logT -> negativeLogLikelihood(confidencesAt.apply(Math.exp(logT)), correct);
    double lo = Math.log(AdapterConfig.MIN_TEMPERATURE);
    double hi = Math.log(AdapterConfig.MAX_TEMPERATURE);
    double step = (hi - lo) / (GRID - 1);
    int best = 0;
    double bestLoss = Double.POSITIVE_INFINITY;
    for (int i = 0; i < GRID; i++) {
      double l = loss.apply(lo + i * step);
      if (l < bestLoss) {
        best = i;
        bestLoss = l;
      }
    }
    double a = lo + Math.max(0, best - 1) * step;
    double b = lo + Math.min(GRID - 1, best + 1) * step;
    double x1 = b - GOLDEN * (b - a);
    double x2 = a + GOLDEN * (b - a);
    double l1 = loss.apply(x1);
    double l2 = loss.apply(x2);
    while (b - a > TOLERANCE) {
      if (l1 <= l2) {
        b = x2;
        x2 = x1;
        l2 = l1;
        x1 = b - GOLDEN * (b - a);
        l1 = loss.apply(x1);
      } else {
        a = x1;
        x1 = x2;
        l1 = l2;
        x2 = a + GOLDEN * (b - a);
        l2 = loss.apply(x2);
      }
    }
    double t = new BigDecimal(Math.exp((a + b) / 2)).round(new MathContext(3)).doubleValue();
    return Math.max(AdapterConfig.MIN_TEMPERATURE, Math.min(AdapterConfig.MAX_TEMPERATURE, t));
  }

  /** The mean negative log-likelihood (nats per field) of the outcomes under the confidences. */
  public static double negativeLogLikelihood(double[] confidences, boolean[] correct) {
    check(confidences, correct);
    double sum = 0;
    for (int i = 0; i < confidences.length; i++) {
      double p = Math.min(1 - EPSILON, Math.max(EPSILON, confidences[i]));
      sum -= Math.log(correct[i] ? p : 1 - p);
    }
    return sum / confidences.length;
  }

  /**
   * Expected calibration error: the confidences in {@link #ECE_BINS} equal-width bins over [0, 1]
   * (1 itself in the last), and the sum over bins of |accuracy - mean confidence| weighted by the
   * bin's share of the fields. 0 when each bin is right as often as it promises.
   */
  public static double expectedCalibrationError(double[] confidences, boolean[] correct) {
    check(confidences, correct);
    int[] count = new int[ECE_BINS];
    int[] right = new int[ECE_BINS];
    double[] confidence = new double[ECE_BINS];
    for (int i = 0; i < confidences.length; i++) {
      int bin = Math.min(ECE_BINS - 1, Math.max(0, (int) (confidences[i] * ECE_BINS)));
      count[bin]++;
      right[bin] += correct[i] ? 1 : 0;
      confidence[bin] += confidences[i];
    }
    double ece = 0;
    for (int bin = 0; bin < ECE_BINS; bin++) {
      if (count[bin] > 0) {
        ece += Math.abs(right[bin] - confidence[bin]) / confidences.length;
      }
    }
    return ece;
  }

  private static void check(double[] confidences, boolean[] correct) {
    if (confidences.length != correct.length || confidences.length == 0) {
      throw new IllegalArgumentException(
          "need one outcome per confidence and at least one: "
              + confidences.length
              + " confidences, "
              + correct.length
              + " outcomes");
    }
  }
}
