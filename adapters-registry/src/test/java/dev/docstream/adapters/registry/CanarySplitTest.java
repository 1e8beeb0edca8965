package dev.docstream.adapters.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CanarySplitTest {
  @Test
  void shouldSendTheShareWithinBinomialToleranceAndTheSameJobsEveryTime() {
    int n = 20_000;
    double share = 0.10;
    int hits = 0;
    for (int i = 0; i < n; i++) {
      boolean first = CanarySplit.toCanary("job-" + i, "T@2", share);
      assertEquals(first, CanarySplit.toCanary("job-" + i, "T@2", share));
      hits += first ? 1 : 0;
    }
    double sd = Math.sqrt(n * share * (1 - share));
    assertTrue(Math.abs(hits - n * share) < 4 * sd, hits + " of " + n);
  }

  @Test
  void shouldGiveEachCanaryItsOwnSliceAndNestLargerShares() {
    int same = 0;
    for (int i = 0; i < 10_000; i++) {
      String job = "job-" + i;
      boolean a = CanarySplit.toCanary(job, "T@2", 0.5);
      boolean b = CanarySplit.toCanary(job, "T@3", 0.5);
      same += a == b ? 1 : 0;
      if (CanarySplit.toCanary(job, "T@2", 0.1)) {
        assertTrue(a, "raising a canary's share keeps the jobs it had");
      }
    }
    assertTrue(same > 4_600 && same < 5_400, "independent slices: " + same);
    assertFalse(CanarySplit.toCanary("job", "T@2", 0));
    assertTrue(CanarySplit.toCanary("job", "T@2", 1));
  }
}
