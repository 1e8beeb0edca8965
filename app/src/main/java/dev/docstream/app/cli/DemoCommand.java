package dev.docstream.app.cli;

import dev.docstream.app.Demo;
import dev.docstream.app.DemoQc;
import dev.docstream.app.EmbeddedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code docstream demo}. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Run the whole pipeline in one process (a Kafka broker, the schema registry, intake, workers, the "
            + "QC router and review service with simulated analysts) on synthetic jobs and print a summary.")
final class DemoCommand implements Callable<Integer> {
  @Mixin JobOptions load;

  @Spec CommandSpec spec;

  @Option(names = "--workers", defaultValue = "2", description = "Inference workers.")
  int workers;

  @Option(
      names = "--data",
      defaultValue = "var/demo",
      description = "Where the broker keeps its data (wiped first).")
  Path data;

  @Option(
      names = "--out",
      defaultValue = "out/demo",
      description = "Where summary.json and summary.md go.")
  Path out;

  @Option(names = "--models", defaultValue = "models", description = "Base model and adapters.")
  Path models;

  @Option(
      names = "--qc",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description =
          "Close the QC loop: sample results for review, simulated analysts review them (--no-qc: off).")
  boolean qc;

  @Option(names = "--analysts", defaultValue = "2", description = "Simulated analysts.")
  int analysts;

  @Option(
      names = "--analyst-error-rate",
      defaultValue = "0.02",
      description = "Share of fields a simulated analyst gets wrong, 0 to 1.")
  double analystErrorRate;

  @Option(
      names = "--audit-share",
      defaultValue = "0.1",
      description = "The QC router's random audit share in the demo (qc.random.share), 0 to 1.")
  double auditShare;

  @Override
  public Integer call() throws Exception {
    load.validate(spec);
    if (workers < 1) {
      throw new ParameterException(spec.commandLine(), "--workers must be at least 1");
    }
    if (analysts < 1
        || analystErrorRate < 0
        || analystErrorRate > 1
        || auditShare < 0
        || auditShare > 1) {
      throw new ParameterException(
          spec.commandLine(),
          "--analysts must be at least 1, --analyst-error-rate and --audit-share within 0..1");
    }
    EmbeddedStack.Options options = StackOptions.of(data, true, workers, models, 0);
    System.err.println(
        "starting the embedded stack: Kafka broker, schema registry, intake, "
            + workers
            + " inference workers ...");
    try (EmbeddedStack stack = EmbeddedStack.start(options)) {
      System.err.printf(
          "stack up in %.1f s: %d document types served%n",
          stack.readyMillis() / 1000.0, stack.documentTypes().size());
      Demo.run(
          stack,
          load.jobs,
          load.bad,
          load.rate,
          load.seed,
          out,
          qc ? new DemoQc.Settings(analysts, analystErrorRate, auditShare) : null);
      System.out.println(Files.readString(out.resolve("summary.md")));
      System.out.println(
          "written: " + out.resolve("summary.json") + ", " + out.resolve("summary.md"));
    }
    System.err.println("stopped: workers, intake, schema registry, broker");
    return 0;
  }
}
