package dev.docstream.app.cli;

import dev.docstream.app.Bench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream bench}. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Measure the design's numbers side by side in one run; prints a table, writes bench.json and "
            + "bench.md.")
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--jobs", defaultValue = "512", description = "Jobs per throughput run.")
  int jobs;

  @Option(
      names = "--reps",
      defaultValue = "3",
      description = "Repetitions (latency figures use 3x as many).")
  int reps;

  @Option(names = "--seed", defaultValue = "5", description = "Seed of the synthetic jobs.")
  long seed;

  @Option(
      names = "--work",
      defaultValue = "var/bench",
      description = "Scratch folder for extra adapters and broker data.")
  Path work;

  @Option(
      names = "--out",
      defaultValue = "out/bench",
      description = "Where bench.json and bench.md go.")
  Path out;

  @Option(names = "--models", defaultValue = "models", description = "Base model and adapters.")
  Path models;

  @Override
  public Integer call() throws Exception {
    Checks.requireModels(models);
    Bench.run(models, jobs, reps, seed, work, out);
    System.out.println(Files.readString(out.resolve("bench.md")));
    System.out.println("written: " + out.resolve("bench.json") + ", " + out.resolve("bench.md"));
    return 0;
  }
}
