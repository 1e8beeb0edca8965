package dev.docstream.app.cli;

import dev.docstream.app.Bench;
import dev.docstream.app.BenchReplay;
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

  @Option(
      names = "--part",
      defaultValue = "standard",
      description =
          "standard: the model, merge and throughput figures; replay: live latency beside a replay "
              + "backlog (bench-replay.json and .md).")
  String part;

  @Option(
      names = "--window",
      defaultValue = "40",
      description =
          "With --part replay: seconds of steady live load, alone and beside the backlog.")
  int window;

  @Option(
      names = "--backlog",
      defaultValue = "2000",
      description = "With --part replay: replayed jobs put in the replay lane.")
  int backlog;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Checks.requireModels(models);
    if (part.equals("replay")) {
      if (window < 5 || backlog < 100) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--window must be >= 5 and --backlog >= 100");
      }
      BenchReplay.run(models, window, backlog, seed, work, out);
      System.out.println(Files.readString(out.resolve("bench-replay.md")));
      System.out.println(
          "written: " + out.resolve("bench-replay.json") + ", " + out.resolve("bench-replay.md"));
      return 0;
    }
    if (!part.equals("standard")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--part must be standard or replay, not '" + part + "'");
    }
    Bench.run(models, jobs, reps, seed, work, out);
    System.out.println(Files.readString(out.resolve("bench.md")));
    System.out.println("written: " + out.resolve("bench.json") + ", " + out.resolve("bench.md"));
    return 0;
  }
}
