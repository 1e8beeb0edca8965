package dev.docstream.training;

import ai.djl.engine.Engine;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.synth.DocumentTypes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Trains the base extraction model from scratch on the base share of document types. */
public final class BaseTraining {
  private BaseTraining() {}

  /** The document types the base model trains on: the first {@code count} of the base split. */
  public static List<String> baseTypes(int count) {
    return DocumentTypes.catalog().stream()
        .filter(DocumentTypes::isBaseTrainingType)
        .limit(count)
        .toList();
  }

  /** Trains from scratch and writes the checkpoint to {@code out}, saving along the way. */
  public static void run(
      ModelConfig config, ExtractionTrainer.Options options, int typeCount, long seed, Path out)
      throws IOException, InterruptedException {
    run(config, options, typeCount, seed, null, out);
  }

  /**
   * Trains, starting from the weights in {@code init} when not null (a second schedule on top of a
   * first one), and writes the checkpoint to {@code out}, saving along the way.
   */
  public static void run(
      ModelConfig config,
      ExtractionTrainer.Options options,
      int typeCount,
      long seed,
      Path init,
      Path out)
      throws IOException, InterruptedException {
    Engine.getInstance().setRandomSeed((int) seed);
    ExtractionModel block =
        new ExtractionModel(init == null ? config : ModelCheckpoint.readConfig(init));
    try (ExtractionTrainer trainer = new ExtractionTrainer(block, options);
        DocumentStream data =
            new DocumentStream(baseTypes(typeCount), options.batchSize(), block.config(), seed)) {
      if (init != null) {
        ModelCheckpoint.copyInto(block, init, trainer.manager());
      }
      trainer.train(data, "base", 200, step -> ModelCheckpoint.save(block, out));
    }
  }
}
