package dev.docstream.app.cli;

import dev.docstream.app.Demo;
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
        "Run the whole pipeline in one process (a Kafka broker, the schema registry, intake, workers) on "
            + "synthetic jobs and print a summary.")
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

  @Override
  public Integer call() throws Exception {
    load.validate(spec);
    if (workers < 1) {
      throw new ParameterException(spec.commandLine(), "--workers must be at least 1");
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
      Demo.run(stack, load.jobs, load.bad, load.rate, load.seed, out);
      System.out.println(Files.readString(out.resolve("summary.md")));
      System.out.println(
          "written: " + out.resolve("summary.json") + ", " + out.resolve("summary.md"));
    }
    System.err.println("stopped: workers, intake, schema registry, broker");
    return 0;
  }
}
