package dev.docstream.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.function.DoubleFunction;
import org.junit.jupiter.api.Test;

/** The fit and the error on synthetic samples whose answer is known. */
class TemperatureFitTest {
  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

  /** Scores z; a field is right with probability sigmoid(z / trueT); confidence at T: z / T. */
  private record Sample(double[] z, boolean[] correct) {
    static Sample of(double trueT, int n, long seed) {
      Random rnd = new Random(seed);
      double[] z = new double[n];
      boolean[] correct = new boolean[n];
      for (int i = 0; i < n; i++) {
        z[i] = 1 + rnd.nextGaussian() * 1.5;
        correct[i] = rnd.nextDouble() < sigmoid(z[i] / trueT);
      }
      return new Sample(z, correct);
    }

    DoubleFunction<double[]> confidencesAt() {
      return t -> Arrays.stream(z).map(v -> sigmoid(v / t)).toArray();
    }
  }

  @Test
  void shouldRecoverTheTemperatureTheConfidencesWereMadeWith() {
    for (double trueT : new double[] {0.25, 0.5, 1, 2, 4}) {
      Sample s = Sample.of(trueT, 40_000, (long) (trueT * 100));
      double fitted = TemperatureFit.fit(s.confidencesAt(), s.correct());
      assertEquals(trueT, fitted, 0.05 * trueT, "fitted " + fitted + " for " + trueT);
    }
  }

  @Test
  void shouldLowerTheLikelihoodLossAndTheCalibrationErrorOfConfidencesTooLowOrTooHigh() {
    for (double trueT : new double[] {0.3, 3}) {
      Sample s = Sample.of(trueT, 20_000, 5);
      double fitted = TemperatureFit.fit(s.confidencesAt(), s.correct());
      double[] before = s.confidencesAt().apply(1);
      double[] after = s.confidencesAt().apply(fitted);
      assertTrue(
          TemperatureFit.negativeLogLikelihood(after, s.correct())
              < TemperatureFit.negativeLogLikelihood(before, s.correct()));
      double eceBefore = TemperatureFit.expectedCalibrationError(before, s.correct());
      double eceAfter = TemperatureFit.expectedCalibrationError(after, s.correct());
      assertTrue(eceBefore > 0.05, "miscalibrated at T = 1: " + eceBefore);
      assertTrue(eceAfter < 0.02, "calibrated at " + fitted + ": " + eceAfter);
    }
  }

  @Test
  void shouldGiveNearlyZeroCalibrationErrorForAPerfectlyCalibratedSample() {
    Random rnd = new Random(1);
    int n = 100_000;
    double[] p = new double[n];
    boolean[] correct = new boolean[n];
    for (int i = 0; i < n; i++) {
      p[i] = rnd.nextDouble();
      correct[i] = rnd.nextDouble() < p[i];
    }
    double ece = TemperatureFit.expectedCalibrationError(p, correct);
    assertTrue(ece < 0.01, "ECE " + ece);
  }

  @Test
  void shouldWeighEachBinsGapByItsShareOfTheFields() {
    // Bin [0.9, 1]: 4 fields at 0.95, 2 right (gap 0.45); bin [0.2, 0.3): 4 at 0.25, 1 right
    // (gap 0); confidence 1 falls in the last bin. (4 * 0.45 + 4 * 0) / 8 = 0.225; with a ninth
    // field at 1.0 and right, the last bin is 5 fields at mean 0.96 with 3 right: gap 0.36.
    double[] p = {0.95, 0.95, 0.95, 0.95, 0.25, 0.25, 0.25, 0.25};
    boolean[] c = {true, true, false, false, true, false, false, false};
    assertEquals(0.225, TemperatureFit.expectedCalibrationError(p, c), 1e-12);
    double[] p9 = Arrays.copyOf(p, 9);
    p9[8] = 1.0;
    boolean[] c9 = Arrays.copyOf(c, 9);
    c9[8] = true;
    assertEquals(5 * 0.36 / 9, TemperatureFit.expectedCalibrationError(p9, c9), 1e-12);
  }

  @Test
  void shouldKeepTheConfidencesWhenEveryFieldOrNoFieldIsRight() {
    Sample s = Sample.of(1, 100, 2);
    boolean[] all = new boolean[100];
    Arrays.fill(all, true);
    assertEquals(1, TemperatureFit.fit(s.confidencesAt(), all));
    assertEquals(1, TemperatureFit.fit(s.confidencesAt(), new boolean[100]));
  }

  @Test
  void shouldRefuseConfidencesWithoutOutcomes() {
    assertThrows(
        IllegalArgumentException.class,
        () -> TemperatureFit.expectedCalibrationError(new double[2], new boolean[3]));
    assertThrows(
        IllegalArgumentException.class,
        () -> TemperatureFit.negativeLogLikelihood(new double[0], new boolean[0]));
  }
}
