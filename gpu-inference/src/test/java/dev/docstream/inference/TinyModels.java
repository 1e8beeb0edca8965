package dev.docstream.inference;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.XavierInitializer;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Small models with real random weights, and random adapters for them, for fast tests. */
public final class TinyModels {
  private TinyModels() {}

  /** Saves a freshly initialised tiny model to {@code dir} and returns its checksum. */
  public static String saveRandomBase(Path dir, int seed) throws IOException {
    ai.djl.engine.Engine.getInstance().setRandomSeed(seed);
    ExtractionModel block = new ExtractionModel(ModelConfig.tiny());
    try (Model model = Model.newInstance("tiny")) {
      model.setBlock(block);
      block.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
      block.initialize(model.getNDManager(), DataType.FLOAT32, block.inputShape(1));
      // Non-zero biases and norms so that every parameter matters to the outputs.
      Random rnd = new Random(seed);
      for (var p : block.getParameters()) {
        if (p.getKey().endsWith("bias")) {
          float[] v = new float[(int) p.getValue().getArray().size()];
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian() * 0.05f;
          }
          p.getValue().getArray().set(v);
        }
      }
      ModelCheckpoint.save(block, dir);
    }
    return ModelCheckpoint.checksum(dir);
  }

  /** Each linear layer's weight shape {out, in}, by module path. */
  public static Map<String, int[]> moduleShapes(ExtractionModel model) {
    return model.moduleShapes();
  }

  /** A random adapter on every linear layer, with B non-zero so that it changes the outputs. */
  public static PeftAdapter randomAdapter(
      ExtractionModel model, String type, String baseSha, int rank, long seed) {
    return dev.docstream.inference.model.RandomWeights.adapter(
        model, type, baseSha, rank, 0.2f, 0.2f, seed);
  }

  /** A batch of random pixel inputs. */
  public static float[] randomPixels(ModelConfig config, int n, long seed) {
    Random rnd = new Random(seed);
    float[] px = new float[n * config.imageHeight() * config.imageWidth()];
    for (int i = 0; i < px.length; i++) {
      px[i] = (float) rnd.nextGaussian();
    }
    return px;
  }
}
