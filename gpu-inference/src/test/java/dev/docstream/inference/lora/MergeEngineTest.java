package dev.docstream.inference.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.TinyModels;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MergeEngineTest {
  @TempDir Path dir;

  private Extractor extractor;
  private MergeEngine engine;
  private String sha;
  private float[] pixels;

  @BeforeEach
  void load() throws Exception {
    sha = TinyModels.saveRandomBase(dir.resolve("base"), 11);
    extractor = Extractor.load(dir.resolve("base"));
    engine = new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT);
    pixels = TinyModels.randomPixels(ModelConfig.tiny(), 4, 5);
  }

  @AfterEach
  void close() {
    engine.close();
    extractor.close();
  }

  private LoadedAdapter adapter(String type, long seed) {
    PeftAdapter a = TinyModels.randomAdapter(extractor.block(), type, sha, 4, seed);
    return new LoadedAdapter(type, a, extractor.manager());
  }

  private static float maxAbsDiff(float[] a, float[] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  @Test
  void shouldMatchTheUnmergedLoraForwardWhenMerged() {
    float[] base = extractor.logits(pixels, 4);
    try (LoadedAdapter a = adapter("A", 1)) {
      engine.attachUnmerged(a);
      float[] unmerged = extractor.logits(pixels, 4);
      engine.detachUnmerged();
      engine.merge(a);
      float[] merged = extractor.logits(pixels, 4);
      assertTrue(
          maxAbsDiff(base, merged) > 1e-2,
          "the adapter must change the outputs for this test to mean anything");
      float diff = maxAbsDiff(unmerged, merged);
      assertTrue(diff < 1e-4, "merged vs unmerged max abs diff " + diff);
    }
  }

  @Test
  void shouldRunEverySampleWithItsOwnAdapterInOneMixedBatch() {
    float[] base = extractor.logits(pixels, 4);
    try (LoadedAdapter a = adapter("A", 1);
        LoadedAdapter b = adapter("B", 2)) {
      engine.attachUnmerged(a);
      float[] allA = extractor.logits(pixels, 4);
      engine.detachUnmerged();
      engine.attachUnmerged(b);
      float[] allB = extractor.logits(pixels, 4);
      engine.detachUnmerged();
      float[] mixed;
      try (PerSampleAdapters p = engine.attachPerSample(java.util.Arrays.asList(a, b, null, a))) {
        mixed = extractor.logits(pixels, 4);
      }
      int n = base.length / 4;
      float[][] expected = {allA, allB, base, allA};
      for (int i = 0; i < 4; i++) {
        float[] want = Arrays.copyOfRange(expected[i], i * n, (i + 1) * n);
        float[] got = Arrays.copyOfRange(mixed, i * n, (i + 1) * n);
        float diff = maxAbsDiff(want, got);
        assertTrue(diff < 1e-4, "sample " + i + ": mixed vs its own adapter, max abs diff " + diff);
      }
      assertArrayEquals(base, extractor.logits(pixels, 4), "detached: the base model again");
    }
  }

  @Test
  void shouldRestoreBaseBitIdenticallyAfter10000Switches() throws Exception {
    float[] fresh;
    try (Extractor other = Extractor.load(dir.resolve("base"))) {
      fresh = other.logits(pixels, 4);
    }
    try (LoadedAdapter a = adapter("A", 1);
        LoadedAdapter b = adapter("B", 2)) {
      for (int i = 0; i < 10_000; i++) {
        engine.merge(i % 2 == 0 ? a : b);
      }
      engine.restoreBase();
      assertEquals(0f, engine.driftFromBase());
      assertArrayEquals(fresh, extractor.logits(pixels, 4));
    }
  }

  @Test
  void shouldGiveTheSameOutputsForAnAdapterWhateverWasMergedBefore() {
    try (LoadedAdapter a = adapter("A", 1);
        LoadedAdapter b = adapter("B", 2)) {
      engine.merge(a);
      float[] first = extractor.logits(pixels, 4);
      engine.merge(b);
      assertFalse(Arrays.equals(first, extractor.logits(pixels, 4)));
      engine.merge(a);
      assertArrayEquals(first, extractor.logits(pixels, 4));
    }
  }

  @Test
  void shouldRejectAnAdapterForAModuleTheModelLacks() {
    PeftAdapter a = TinyModels.randomAdapter(extractor.block(), "A", sha, 4, 1);
    var modules = new java.util.HashMap<>(a.modules());
    modules.put("encoder.layers.9.attn.qkv", modules.values().iterator().next());
    try (LoadedAdapter bad =
        new LoadedAdapter("bad", new PeftAdapter(a.config(), modules), extractor.manager())) {
      var e = assertThrows(IllegalArgumentException.class, () -> engine.merge(bad));
      assertTrue(e.getMessage().contains("encoder.layers.9.attn.qkv"), e.getMessage());
      assertEquals(null, engine.current(), "a refused merge leaves the base model in place");
    }
  }

  @Test
  void shouldListTheLinearLayersInForwardOrderSoAdapterFilesAreStable() {
    // adapter_config.json's target_modules follow this order; it must not change between runs.
    assertEquals(
        java.util.List.of(
            "encoder.layers.0.attn.qkv",
            "encoder.layers.0.attn.proj",
            "encoder.layers.0.mlp.fc1",
            "encoder.layers.0.mlp.fc2"),
        extractor.block().linears().keySet().stream().limit(4).toList());
  }

  @Test
  void shouldRoundTripPeftFilesIntoTheSameMergedOutputs() throws Exception {
    PeftAdapter a = TinyModels.randomAdapter(extractor.block(), "GBR-PASSPORT-2015", sha, 4, 3);
    a.write(dir.resolve("adapter"));
    PeftAdapter read =
        PeftAdapter.read(dir.resolve("adapter"), sha, TinyModels.moduleShapes(extractor.block()));
    assertEquals(a, read);
    float[] viaMemory;
    try (LoadedAdapter l = new LoadedAdapter("mem", a, extractor.manager())) {
      engine.merge(l);
      viaMemory = extractor.logits(pixels, 4);
      engine.restoreBase();
    }
    try (LoadedAdapter l = new LoadedAdapter("file", read, extractor.manager())) {
      engine.merge(l);
      assertArrayEquals(viaMemory, extractor.logits(pixels, 4));
      engine.restoreBase();
    }
  }

  @Test
  void shouldWriteSafetensorsThatDjlReadsBack() throws Exception {
    PeftAdapter a = TinyModels.randomAdapter(extractor.block(), "T", sha, 2, 4);
    a.write(dir.resolve("adapter"));
    try (var m = ai.djl.ndarray.NDManager.newBaseManager();
        var in =
            java.nio.file.Files.newInputStream(
                dir.resolve("adapter").resolve(PeftAdapter.WEIGHTS))) {
      var list = ai.djl.ndarray.NDList.decode(m, in);
      assertEquals(2 * a.modules().size(), list.size());
      for (var arr : list) {
        String module =
            arr.getName().replace("base_model.model.", "").replaceAll("\\.lora_[AB]\\.weight$", "");
        var pair = a.modules().get(module);
        var expected = arr.getName().contains("lora_A") ? pair.a() : pair.b();
        assertArrayEquals(expected.data(), arr.toFloatArray(), arr.getName());
      }
    }
  }

  static Map<String, int[]> shapes(Extractor e) {
    return TinyModels.moduleShapes(e.block());
  }
}
