package dev.docstream.app.cli;

import static dev.docstream.training.TrainingDefaults.ADAPTER_LR;
import static dev.docstream.training.TrainingDefaults.FULL_LR;
import static dev.docstream.training.TrainingDefaults.TUNING_STEPS;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.training.AdapterTraining;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream train sweep}. */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Train LoRA at several ranks, and full fine-tuning, per type (skips existing runs).")
final class TrainSweepCommand implements Callable<Integer> {
  @Mixin TrainCommand.Tuning tuning;

  @Option(names = "--types", defaultValue = "8", description = "How many held-out types, or ids.")
  String types;

  @Option(names = "--ranks", defaultValue = "8,16,32,64", description = "Ranks.")
  String ranks;

  @Option(
      names = "--full",
      defaultValue = "true",
      arity = "1",
      description = "Also full fine-tuning.")
  boolean full;

  @Option(names = "--runs", defaultValue = "work/sweep", description = "Runs folder.")
  Path runs;

  @Override
  public Integer call() throws Exception {
    for (String type : TrainCommand.types(types)) {
      for (int r : Arrays.stream(ranks.split(",")).map(Integer::parseInt).toList()) {
        Path out = runs.resolve(type).resolve("r" + r);
        if (!Files.exists(out.resolve(PeftAdapter.WEIGHTS))) {
          AdapterTraining.trainAdapter(
              tuning.base,
              type,
              LoraSpec.allLinear(r),
              tuning.options(ADAPTER_LR, TUNING_STEPS),
              tuning.seed,
              out);
        }
      }
      Path f = runs.resolve(type).resolve("full");
      if (full && !Files.exists(f.resolve(ModelCheckpoint.WEIGHTS))) {
        AdapterTraining.fullFineTune(
            tuning.base, type, tuning.options(FULL_LR, TUNING_STEPS), tuning.seed, f);
      }
    }
    return 0;
  }
}
