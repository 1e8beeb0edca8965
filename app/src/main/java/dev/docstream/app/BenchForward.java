package dev.docstream.app;

import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import java.util.ArrayList;
import java.util.List;

/** The bench's forward-pass and swap figures: base, merged and unmerged, and the swap. */
final class BenchForward {
  private BenchForward() {}

  /**
   * Adds the forward-pass latencies of a batch of 32 (base, merged, unmerged, in rotation) and the
   * swap's, with their ratios; leaves one of the two adapters merged.
   */
  static void forwardAndSwap(
      Extractor extractor,
      MergeEngine merge,
      LoadedAdapter a,
      LoadedAdapter b,
      float[] pixels,
      int reps,
      List<Bench.Figure> figures,
      List<Bench.Ratio> ratios) {
    // Base, merged and unmerged forwards are timed in rotation within every repetition, so
    // that drift on a shared machine hits all three alike and cancels out of their ratios.
    List<double[]> fwd = new ArrayList<>();
    for (int rep = -3; rep < reps * 3; rep++) {
      double[] t = new double[3];
      merge.restoreBase();
      t[0] = Bench.time(() -> extractor.logits(pixels, 32)) / 1e6;
      merge.merge(a);
      t[1] = Bench.time(() -> extractor.logits(pixels, 32)) / 1e6;
      merge.restoreBase();
      merge.attachUnmerged(a);
      t[2] = Bench.time(() -> extractor.logits(pixels, 32)) / 1e6;
      merge.detachUnmerged();
      if (rep >= 0) {
        fwd.add(t); // the first three rounds are warm-up
      }
    }
    Bench.Figure baseFwd = Bench.summarise("forward, batch 32, base model", fwd, 0);
    Bench.Figure mergedFwd = Bench.summarise("forward, batch 32, adapter merged", fwd, 1);
    Bench.Figure unmergedFwd =
        Bench.summarise("forward, batch 32, adapter unmerged (W x + s B A x)", fwd, 2);
    boolean[] flip = {false};
    Bench.Figure swap =
        Bench.measure(
            "adapter swap (restore exact + merge)",
            "ms",
            5,
            reps * 10,
            () ->
                Bench.time(
                    () -> {
                      flip[0] = !flip[0];
                      merge.merge(flip[0] ? a : b);
                    }));
    figures.addAll(List.of(baseFwd, mergedFwd, unmergedFwd, swap));
    ratios.add(
        Bench.ratio(
            "merged / base latency per batch",
            mergedFwd.median() / baseFwd.median(),
            "<= 1.02",
            v -> v <= 1.02));
    ratios.add(
        Bench.ratio(
            "unmerged / merged latency per batch",
            unmergedFwd.median() / mergedFwd.median(),
            "(> 1: merging pays)",
            v -> true));
    ratios.add(
        Bench.ratio(
            "swap / batched forward", swap.median() / mergedFwd.median(), "<= 0.5", v -> v <= 0.5));
  }
}
