package dev.docstream.app.cli;

import dev.docstream.training.ExtractionTrainer;
import dev.docstream.training.synth.DocumentTypes;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream train}: the base model, adapters and baselines, and their evaluation. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Train and evaluate the base model and adapters (each subcommand has its own --help).",
    subcommands = {
      TrainBaseCommand.class,
      TrainAdapterCommand.class,
      TrainFullCommand.class,
      TrainShipCommand.class,
      TrainSweepCommand.class,
      TrainEvaluateCommand.class,
      TrainCalibrateCommand.class,
      TrainTypesCommand.class,
      TrainReferenceCommand.class,
      TrainFeedCommand.class
    })
final class TrainCommand {
  /** Options of every fine-tuning run (adapter, full, ship, sweep). */
  static final class Tuning {
    @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
    Path base;

    @Option(names = "--steps", description = "Optimisation steps (default: the command's).")
    Integer steps;

    @Option(names = "--batch", defaultValue = "32", description = "Images per step.")
    int batch;

    @Option(names = "--lr", description = "Peak learning rate (default: the command's).")
    Float lr;

    @Option(
        names = "--lr-b-ratio",
        defaultValue = "1",
        description = "lora_B learns this many times faster (LoRA+).")
    float lrBRatio;

    @Option(names = "--seed", defaultValue = "11", description = "Seed.")
    long seed;

    ExtractionTrainer.Options options(float defaultLr, int defaultSteps) {
      return new ExtractionTrainer.Options(
          steps == null ? defaultSteps : steps,
          batch,
          lr == null ? defaultLr : lr,
          30,
          1.0f,
          lrBRatio);
    }
  }

  /** Which held-out types: a count, or ids. */
  static List<String> types(String spec) {
    return spec.matches("\\d+")
        ? DocumentTypes.heldOut(Integer.parseInt(spec))
        : List.of(spec.split(","));
  }
}
