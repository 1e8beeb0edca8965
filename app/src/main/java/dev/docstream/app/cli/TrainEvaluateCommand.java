package dev.docstream.app.cli;

import dev.docstream.training.EvaluationTable;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream train evaluate}. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Score the base, the shipped adapters and the sweep runs; writes evaluation.md and .json.")
final class TrainEvaluateCommand implements Callable<Integer> {
  @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
  Path base;

  @Option(names = "--adapters", defaultValue = "models/adapters", description = "Shipped adapters.")
  Path adapters;

  @Option(names = "--runs", defaultValue = "work/sweep", description = "Sweep runs.")
  Path runs;

  @Option(names = "--types", defaultValue = "8", description = "How many held-out types, or ids.")
  String types;

  @Option(names = "--ranks", defaultValue = "8,16,32,64", description = "Sweep ranks to score.")
  String ranks;

  @Option(names = "--docs", defaultValue = "200", description = "Test documents per type.")
  int docs;

  @Option(names = "--seed", defaultValue = "99", description = "Seed of the test documents.")
  long seed;

  @Option(
      names = "--formats",
      defaultValue = "true",
      arity = "1",
      description = "Read the document number in its type's format, as served.")
  boolean formats;

  @Option(names = "--out", defaultValue = "docs/evaluation", description = "Output folder.")
  Path out;

  @Override
  public Integer call() throws Exception {
    List<EvaluationTable.Row> rows =
        EvaluationTable.run(
            base,
            adapters,
            runs,
            TrainCommand.types(types),
            Arrays.stream(ranks.split(",")).map(Integer::parseInt).toList(),
            docs,
            seed,
            formats,
            out);
    for (EvaluationTable.Row r : rows) {
      StringBuilder fields = new StringBuilder();
      r.byField()
          .forEach(
              (f, v) -> fields.append(String.format(" %s %.1f", f.name().toLowerCase(), 100 * v)));
      System.out.printf(
          "%-28s %-22s exact %6.2f %%  chars %6.2f %%  by field:%s%n",
          r.type(), r.variant(), 100 * r.exactMatch(), 100 * r.charAccuracy(), fields);
    }
    return 0;
  }
}
