package dev.docstream.app.cli;

import static dev.docstream.training.TrainingDefaults.ADAPTER_LR;
import static dev.docstream.training.TrainingDefaults.ADAPTER_RANK;
import static dev.docstream.training.TrainingDefaults.ADAPTER_STEPS;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.training.AdapterTraining;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream train ship}. */
@Command(
    name = "ship",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Train the adapters DocStream ships, one per held-out type (skips existing ones).")
final class TrainShipCommand implements Callable<Integer> {
  @Mixin TrainCommand.Tuning tuning;

  @Option(
      names = "--types",
      defaultValue = "8",
      description = "How many held-out types, or ids (A,B,...).")
  String types;

  @Option(names = "--rank", defaultValue = "" + ADAPTER_RANK, description = "LoRA rank r.")
  int rank;

  @Option(names = "--out", defaultValue = "models/adapters", description = "Adapters folder.")
  Path out;

  @Override
  public Integer call() throws Exception {
    for (String type : TrainCommand.types(types)) {
      if (Files.exists(out.resolve(type).resolve(PeftAdapter.WEIGHTS))) {
        System.err.println("ship: " + type + " exists, skipped");
        continue;
      }
      AdapterTraining.trainAdapter(
          tuning.base,
          type,
          LoraSpec.allLinear(rank),
          tuning.options(ADAPTER_LR, ADAPTER_STEPS),
          tuning.seed,
          out.resolve(type));
    }
    return 0;
  }
}
