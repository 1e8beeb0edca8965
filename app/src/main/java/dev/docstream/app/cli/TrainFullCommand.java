package dev.docstream.app.cli;

import static dev.docstream.training.TrainingDefaults.FULL_LR;
import static dev.docstream.training.TrainingDefaults.TUNING_STEPS;

import dev.docstream.training.AdapterTraining;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream train full}. */
@Command(
    name = "full",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Full fine-tuning baseline for one document type; writes a checkpoint. Defaults: "
            + TUNING_STEPS
            + " steps, learning rate "
            + FULL_LR
            + ".")
final class TrainFullCommand implements Callable<Integer> {
  @Mixin TrainCommand.Tuning tuning;

  @Option(names = "--type", required = true, description = "Document type.")
  String type;

  @Option(names = "--out", required = true, description = "Output folder.")
  Path out;

  @Override
  public Integer call() throws Exception {
    AdapterTraining.fullFineTune(
        tuning.base, type, tuning.options(FULL_LR, TUNING_STEPS), tuning.seed, out);
    return 0;
  }
}
