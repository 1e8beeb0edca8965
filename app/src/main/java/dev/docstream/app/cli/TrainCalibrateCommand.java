package dev.docstream.app.cli;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.training.Calibration;
import dev.docstream.training.HeldOutEvaluator;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code docstream train calibrate}. */
@Command(
    name = "calibrate",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description = {
      "Fit each adapter's confidence temperature, in adapter_config.json.",
      "The temperature minimises the negative log-likelihood of the fields being right, on"
          + " held-out documents of the adapter's type (--seed); it is written in place"
          + " (docstream_confidence_temperature), every other key left as it is. Prints the"
          + " expected calibration error before and after, on evaluation documents the fit has"
          + " not seen (--eval-seed, train evaluate's)."
    })
final class TrainCalibrateCommand implements Callable<Integer> {
  @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
  Path base;

  @Option(names = "--adapters", defaultValue = "models/adapters", description = "Adapters folder.")
  Path adapters;

  @Option(
      names = "--types",
      description =
          "Document types (A,B,...) or a count of held-out types; default: every adapter.")
  String types;

  @Option(
      names = "--docs",
      defaultValue = "" + Calibration.DOCUMENTS,
      description = "Fitting documents per type.")
  int docs;

  @Option(
      names = "--seed",
      defaultValue = "" + Calibration.FIT_SEED,
      description = "Seed of the fitting documents.")
  long seed;

  @Option(
      names = "--eval-docs",
      defaultValue = "200",
      description = "Evaluation documents per type for the error before and after (0: none).")
  int evalDocs;

  @Option(
      names = "--eval-seed",
      defaultValue = "" + HeldOutEvaluator.SEED,
      description = "Seed of the evaluation documents (train evaluate's).")
  long evalSeed;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (docs < 1 || evalDocs < 0) {
      throw new ParameterException(spec.commandLine(), "--docs must be >= 1 and --eval-docs >= 0");
    }
    if (seed == evalSeed && evalDocs > 0) {
      throw new ParameterException(
          spec.commandLine(),
          "--seed and --eval-seed are both "
              + seed
              + ": the error after would be measured on the documents it was fitted on");
    }
    if (!Files.isDirectory(base) || !Files.isDirectory(adapters)) {
      throw new UserError("no base model in " + base + " or no adapters folder " + adapters);
    }
    List<String> which =
        types == null
            ? List.copyOf(new DirectoryAdapterStore(adapters, "", Map.of()).documentTypes())
            : TrainCommand.types(types);
    if (which.isEmpty()) {
      throw new UserError("no adapter folders in " + adapters);
    }
    PrintWriter out = spec.commandLine().getOut();
    try {
      Calibration.calibrateFolders(
          base,
          adapters,
          which,
          docs,
          seed,
          evalDocs,
          evalSeed,
          line -> {
            out.println(line);
            out.flush();
          });
    } catch (AdapterFormatException e) {
      throw new UserError(e.getMessage());
    }
    return 0;
  }
}
