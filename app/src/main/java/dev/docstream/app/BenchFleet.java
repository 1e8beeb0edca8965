package dev.docstream.app;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import dev.docstream.inference.lora.LoraLinear;
import dev.docstream.inference.model.Extractor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The bench's adapter fleet: the shipped adapters plus random valid ones, as a large fleet would
 * have.
 */
final class BenchFleet {
  private BenchFleet() {}

  static void copyShipped(Path shipped, List<String> types, Path fleet) throws IOException {
    for (String t : types) {
      Files.createDirectories(fleet.resolve(t));
      for (String f : List.of(AdapterConfig.FILE, PeftAdapter.WEIGHTS)) {
        Files.copy(shipped.resolve(t).resolve(f), fleet.resolve(t).resolve(f));
      }
    }
  }

  /** Random but valid rank-r adapters for extra document types, as a large fleet would have. */
  static void writeRandomAdapters(
      Extractor extractor, String baseSha, List<String> types, int rank, Path dir)
      throws IOException {
    Random rnd = new Random(17);
    for (String type : types) {
      Map<String, PeftAdapter.LoraPair> modules = new LinkedHashMap<>();
      for (Map.Entry<String, LoraLinear> e : extractor.block().linears().entrySet()) {
        int in = e.getValue().inFeatures();
        int out = e.getValue().outFeatures();
        modules.put(
            e.getKey(),
            new PeftAdapter.LoraPair(
                new Tensor(new int[] {rank, in}, gaussian(rnd, rank * in)),
                new Tensor(new int[] {out, rank}, gaussian(rnd, out * rank))));
      }
      new PeftAdapter(
              new AdapterConfig(
                  rank,
                  2f * rank,
                  new ArrayList<>(modules.keySet()),
                  "docstream-extractor",
                  type,
                  baseSha),
              modules)
          .write(dir.resolve(type));
    }
  }

  private static float[] gaussian(Random rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (rnd.nextGaussian() * 0.02);
    }
    return v;
  }
}
