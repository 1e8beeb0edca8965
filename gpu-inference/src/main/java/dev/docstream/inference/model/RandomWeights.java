package dev.docstream.inference.model;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.XavierInitializer;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import dev.docstream.inference.lora.LoraLinear;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Models and adapters with random weights, built in memory: for measuring merge and forward costs
 * at shapes DocStream ships no trained model of (a ViT-B-sized base with rank-64 adapters on every
 * linear layer). Nothing is downloaded or read from disk.
 */
public final class RandomWeights {
  private RandomWeights() {}

  /**
   * A serving extractor of shape {@code config}: Xavier-initialised weights (as a checkpoint load
   * initialises before it overwrites), small random biases so that every parameter matters, all
   * frozen.
   */
  public static Extractor extractor(ModelConfig config, long seed) {
    return extractor(config, seed, 0.02f);
  }

  /** As {@link #extractor(ModelConfig, long)} with the biases' standard deviation given. */
  public static Extractor extractor(ModelConfig config, long seed, float biasStd) {
    Engine.getInstance().setRandomSeed((int) seed);
    ExtractionModel block = new ExtractionModel(config);
    Model model = Model.newInstance("docstream-random-" + config.dim());
    model.setBlock(block);
    block.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
    block.initialize(model.getNDManager(), DataType.FLOAT32, block.inputShape(1));
    Random rnd = new Random(seed);
    for (var p : block.getParameters()) {
      if (p.getKey().endsWith("bias")) {
        p.getValue().getArray().set(gaussian(rnd, (int) p.getValue().getArray().size(), biasStd));
      }
    }
    return Extractor.of(model, block).freezeParameters();
  }

  /** Parameters of the extractor's model. */
  public static long parameters(Extractor extractor) {
    return extractor.block().getParameters().stream()
        .mapToLong(p -> p.getValue().getArray().size())
        .sum();
  }

  /**
   * A random adapter on every linear layer of {@code model}, as a trained one looks: A with the
   * Kaiming-like scale PEFT initialises it with (std 1/sqrt(in)), B non-zero (std {@code bStd}),
   * alpha = 2 x rank.
   */
  public static PeftAdapter adapter(
      ExtractionModel model, String documentType, String baseSha, int rank, float bStd, long seed) {
    return adapter(model, documentType, baseSha, rank, 0, bStd, seed);
  }

  /**
   * As {@link #adapter(ExtractionModel, String, String, int, float, long)} with A's standard
   * deviation given ({@code aStd <= 0}: 1/sqrt(in)).
   */
  public static PeftAdapter adapter(
      ExtractionModel model,
      String documentType,
      String baseSha,
      int rank,
      float aStd,
      float bStd,
      long seed) {
    Random rnd = new Random(seed);
    Map<String, PeftAdapter.LoraPair> modules = new LinkedHashMap<>();
    for (Map.Entry<String, LoraLinear> e : model.linears().entrySet()) {
      int in = e.getValue().inFeatures();
      int out = e.getValue().outFeatures();
      modules.put(
          e.getKey(),
          new PeftAdapter.LoraPair(
              new Tensor(
                  new int[] {rank, in},
                  gaussian(rnd, rank * in, aStd > 0 ? aStd : (float) (1 / Math.sqrt(in)))),
              new Tensor(new int[] {out, rank}, gaussian(rnd, out * rank, bStd))));
    }
    AdapterConfig config =
        new AdapterConfig(
            rank,
            2f * rank,
            new ArrayList<>(model.linears().keySet()),
            "docstream-extractor",
            documentType,
            baseSha);
    return new PeftAdapter(config, modules);
  }

  /** A batch of {@code n} random pixel inputs (standard normal) for a model of {@code config}. */
  public static float[] pixels(ModelConfig config, int n, long seed) {
    return gaussian(new Random(seed), n * config.imageHeight() * config.imageWidth(), 1f);
  }

  private static float[] gaussian(Random rnd, int n, float std) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) rnd.nextGaussian() * std;
    }
    return v;
  }
}
