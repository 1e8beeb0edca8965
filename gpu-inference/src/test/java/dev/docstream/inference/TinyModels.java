package dev.docstream.inference;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.RandomWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Small models with real random weights, and random adapters for them, for fast tests. */
public final class TinyModels {
  private TinyModels() {}

  /**
   * Saves a freshly initialised tiny model to {@code dir} and returns its checksum. Non-zero biases
   * (std 0.05) so that every parameter matters to the outputs.
   */
  public static String saveRandomBase(Path dir, int seed) throws IOException {
    try (Extractor e = RandomWeights.extractor(ModelConfig.tiny(), seed, 0.05f)) {
      ModelCheckpoint.save(e.block(), dir);
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
    return RandomWeights.adapter(model, type, baseSha, rank, 0.2f, 0.2f, seed);
  }

  /** A batch of random pixel inputs. */
  public static float[] randomPixels(ModelConfig config, int n, long seed) {
    return RandomWeights.pixels(config, n, seed);
  }
}
