package dev.docstream.app.cli;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.BaseTraining;
import dev.docstream.training.ExtractionTrainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream train base}. */
@Command(
    name = "base",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description = "Train the base model from scratch on the base share of document types.")
final class TrainBaseCommand implements Callable<Integer> {
  @Option(names = "--out", defaultValue = "models/base", description = "Checkpoint folder.")
  Path out;

  @Option(names = "--steps", defaultValue = "6000", description = "Optimisation steps.")
  int steps;

  @Option(names = "--batch", defaultValue = "32", description = "Images per step.")
  int batch;

  @Option(names = "--lr", defaultValue = "0.0015", description = "Peak learning rate.")
  float lr;

  @Option(names = "--warmup", defaultValue = "300", description = "Warm-up steps.")
  int warmup;

  @Option(names = "--types", defaultValue = "300", description = "Number of base document types.")
  int types;

  @Option(names = "--seed", defaultValue = "7", description = "Seed for data and initialisation.")
  long seed;

  @Option(
      names = "--config",
      defaultValue = "standard",
      description = "Model size: standard or tiny.")
  String config;

  @Option(
      names = "--init",
      description = "Continue from this checkpoint's weights (a new schedule).")
  Path init;

  @Override
  public Integer call() throws Exception {
    ModelConfig c =
        switch (config) {
          case "standard" -> ModelConfig.standard();
          case "tiny" -> ModelConfig.tiny();
          default -> throw new UserError("--config must be standard or tiny, got " + config);
        };
    BaseTraining.run(
        c, new ExtractionTrainer.Options(steps, batch, lr, warmup, 1.0f), types, seed, init, out);
    return 0;
  }
}
