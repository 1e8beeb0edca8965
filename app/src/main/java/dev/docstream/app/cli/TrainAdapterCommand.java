package dev.docstream.app.cli;

import static dev.docstream.training.TrainingDefaults.ADAPTER_LR;
import static dev.docstream.training.TrainingDefaults.ADAPTER_RANK;
import static dev.docstream.training.TrainingDefaults.ADAPTER_STEPS;

import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.training.AdapterTraining;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream train adapter}. */
@Command(
    name = "adapter",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Train one document type's LoRA adapter (every linear layer, alpha = 2r, base frozen); writes a "
            + "PEFT folder. Defaults: "
            + ADAPTER_STEPS
            + " steps, learning rate "
            + ADAPTER_LR
            + ".")
final class TrainAdapterCommand implements Callable<Integer> {
  @Mixin TrainCommand.Tuning tuning;

  @Option(names = "--type", required = true, description = "Document type, e.g. GBR-PASSPORT-2015.")
  String type;

  @Option(names = "--rank", defaultValue = "" + ADAPTER_RANK, description = "LoRA rank r.")
  int rank;

  @Option(names = "--out", required = true, description = "Output folder.")
  Path out;

  @Override
  public Integer call() throws Exception {
    AdapterTraining.trainAdapter(
        tuning.base,
        type,
        LoraSpec.allLinear(rank),
        tuning.options(ADAPTER_LR, ADAPTER_STEPS),
        tuning.seed,
        out);
    return 0;
  }
}
