package dev.docstream.inference.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.inference.TinyModels;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.RandomWeights;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The merge at the scale DocStream is for: a ViT-B-shaped model (width 768, 12 layers, MLP x4, 97 M
 * parameters; small images so that a forward pass is quick) with random rank-64 adapters on all 56
 * linear layers. Every swap kernel must give the unmerged LoRA outputs and restore the base
 * bit-identically.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VitScaleMergeTest {
  private static final ModelConfig SHAPE =
      new ModelConfig(32, 64, new int[] {128, 384}, 768, 12, 4, 12, 4);

  private Extractor extractor;
  private LoadedAdapter a;
  private LoadedAdapter b;
  private float[] pixels;
  private float[] base;

  @BeforeAll
  void build() {
    extractor = RandomWeights.extractor(SHAPE, 3);
    assertEquals(56, extractor.block().linears().size());
    assertTrue(RandomWeights.parameters(extractor) > 85_000_000L);
    a = adapter("A", 1);
    b = adapter("B", 2);
    pixels = TinyModels.randomPixels(SHAPE, 2, 7);
    base = extractor.logits(pixels, 2);
  }

  private LoadedAdapter adapter(String type, long seed) {
    return new LoadedAdapter(
        type,
        RandomWeights.adapter(extractor.block(), type, "sha", 64, 0.02f, seed),
        extractor.manager());
  }

  @AfterAll
  void close() {
    a.close();
    b.close();
    extractor.close();
  }

  @ParameterizedTest
  @EnumSource(MergeEngine.Kernel.class)
  void shouldGiveTheUnmergedOutputsAndRestoreTheBaseExactly(MergeEngine.Kernel kernel) {
    try (MergeEngine merge =
        new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT, kernel)) {
      merge.attachUnmerged(a);
      float[] unmerged = extractor.logits(pixels, 2);
      merge.detachUnmerged();
      float change = maxAbsDiff(base, unmerged);
      assertTrue(change > 1e-2, "the adapter must change the outputs, changed " + change);
      for (int i = 0; i < 6; i++) {
        merge.merge(i % 2 == 0 ? b : a); // ends on a, after switches in both directions
      }
      float diff = maxAbsDiff(unmerged, extractor.logits(pixels, 2));
      assertTrue(diff < 1e-3 * Math.max(1, change), kernel + ": merged vs unmerged " + diff);
      merge.restoreBase();
      assertEquals(0f, merge.driftFromBase(), kernel.toString());
      assertArrayEquals(base, extractor.logits(pixels, 2), kernel + ": base after switches");
    }
  }

  @Test
  void shouldRunTwoAdaptersInOneMixedBatchAsEachAlone() {
    try (MergeEngine merge =
        new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      merge.merge(a);
      float[] allA = extractor.logits(pixels, 2);
      merge.merge(b);
      float[] allB = extractor.logits(pixels, 2);
      merge.restoreBase();
      float[] mixed;
      try (PerSampleAdapters p = merge.attachPerSample(java.util.List.of(b, a))) {
        mixed = extractor.logits(pixels, 2);
      }
      int n = mixed.length / 2;
      float d0 =
          maxAbsDiff(
              java.util.Arrays.copyOfRange(allB, 0, n), java.util.Arrays.copyOfRange(mixed, 0, n));
      float d1 =
          maxAbsDiff(
              java.util.Arrays.copyOfRange(allA, n, 2 * n),
              java.util.Arrays.copyOfRange(mixed, n, 2 * n));
      assertTrue(d0 < 1e-3 && d1 < 1e-3, "mixed vs merged: " + d0 + ", " + d1);
      assertArrayEquals(base, extractor.logits(pixels, 2), "detached: the base model again");
    }
  }

  @Test
  void shouldMergeTheSameWeightsWithEveryFreshMemoryKernel() {
    float[] fused;
    try (MergeEngine merge =
        new MergeEngine(
            extractor.block().linears(), MergeEngine.RestoreMode.EXACT, MergeEngine.Kernel.FUSED)) {
      merge.merge(a);
      fused = extractor.logits(pixels, 2);
      merge.restoreBase();
    }
    try (MergeEngine merge =
        new MergeEngine(
            extractor.block().linears(),
            MergeEngine.RestoreMode.EXACT,
            MergeEngine.Kernel.STACKED)) {
      merge.merge(a);
      float diff = maxAbsDiff(fused, extractor.logits(pixels, 2));
      assertTrue(diff < 1e-4, "stacked vs fused " + diff);
      merge.restoreBase();
    }
  }

  private static float maxAbsDiff(float[] x, float[] y) {
    float max = 0;
    for (int i = 0; i < x.length; i++) {
      max = Math.max(max, Math.abs(x[i] - y[i]));
    }
    return max;
  }
}
