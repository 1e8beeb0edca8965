package dev.docstream.app.cli;

import static dev.docstream.training.TrainingDefaults.ADAPTER_LR;
import static dev.docstream.training.TrainingDefaults.ADAPTER_RANK;
import static dev.docstream.training.TrainingDefaults.ADAPTER_STEPS;
import static dev.docstream.training.TrainingDefaults.CONTINUE_LR;
import static dev.docstream.training.TrainingDefaults.CONTINUE_STEPS;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.training.AdapterTraining;
import dev.docstream.training.ReviewedDocuments;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
            + " (with --init: "
            + CONTINUE_STEPS
            + " steps, "
            + CONTINUE_LR
            + "). With --reviewed, analysts' reviewed documents of the type (docstream qc export) "
            + "are mixed into every batch, their labels aligned to the frames by the model as "
            + "training starts from.")
final class TrainAdapterCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin TrainCommand.Tuning tuning;

  @Option(names = "--type", required = true, description = "Document type, e.g. GBR-PASSPORT-2015.")
  String type;

  @Option(names = "--rank", defaultValue = "" + ADAPTER_RANK, description = "LoRA rank r.")
  int rank;

  @Option(names = "--out", required = true, description = "Output folder.")
  Path out;

  @Option(
      names = "--init",
      description =
          "Continue from this adapter folder of the type (same rank; a new schedule) instead of a "
              + "fresh adapter.")
  Path init;

  @Option(
      names = "--reviewed",
      description =
          "A docstream qc export folder (manifest.jsonl and images/): its documents of the type "
              + "are trained on beside synthetic ones.")
  Path reviewed;

  @Option(
      names = "--reviewed-share",
      defaultValue = "" + AdapterTraining.Inputs.DEFAULT_REVIEWED_SHARE,
      description =
          "With --reviewed: the share of each batch drawn from the reviewed documents (cycled); "
              + "the rest synthetic.")
  double reviewedShare;

  @Override
  public Integer call() throws Exception {
    if (reviewed == null
        && spec.commandLine().getParseResult().hasMatchedOption("--reviewed-share")) {
      throw new UserError("--reviewed-share applies to --reviewed only");
    }
    AdapterTraining.Inputs inputs;
    try {
      inputs = new AdapterTraining.Inputs(init, reviewed, reviewedShare);
      inputs.reviewedPerBatch(tuning.batch);
    } catch (IllegalArgumentException e) {
      throw new UserError("--reviewed-share: " + e.getMessage());
    }
    try {
      AdapterTraining.trainAdapter(
          tuning.base,
          type,
          LoraSpec.allLinear(rank),
          init == null
              ? tuning.options(ADAPTER_LR, ADAPTER_STEPS)
              : tuning.options(CONTINUE_LR, CONTINUE_STEPS),
          tuning.seed,
          out,
          inputs);
    } catch (ReviewedDocuments.RefusedException e) {
      throw new UserError("--reviewed: " + e.getMessage());
    } catch (AdapterFormatException e) {
      throw new UserError("--init: " + e.getMessage());
    }
    return 0;
  }
}
