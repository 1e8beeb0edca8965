package dev.docstream.app.cli;

import dev.docstream.app.Bench;
import dev.docstream.app.BenchReplay;
import dev.docstream.app.BenchVit;
import dev.docstream.inference.worker.SchedulingKeys;
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
  @Option(
      names = "--jobs",
      defaultValue = "2048",
      description =
          "Jobs per throughput run: long enough that a run's fixed costs (a results consumer"
              + " joining, the first batch filling, the last commit) weigh little.")
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
          "standard: the model, merge and throughput figures; throughput: the model alone and the "
              + "runs through Kafka only, with the per-job breakdown; replay: live latency beside a replay "
              + "backlog (bench-replay.json and .md); merge: forward and swap costs of --model's "
              + "shape with random weights (bench-<model>.json and .md; the only part for vit-s "
              + "and vit-b).")
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

  @Option(
      names = "--model",
      defaultValue = "standard",
      description =
          "standard: the shipped model; vit-s or vit-b: merge and forward costs of the model's design "
              + "at ViT-S/ViT-B scale with random weights and random rank-64 adapters "
              + "(bench-vit-b.json and .md; takes 5-10 minutes on 2 cores for vit-b).")
  String model;

  @Option(
      names = "--model-threads",
      defaultValue = "0",
      description =
          "PyTorch intra-op threads of the pipeline's worker (0: PyTorch's default, one per core);"
              + " the model alone always runs with the default.")
  int modelThreads;

  @Option(
      names = "--worker",
      paramLabel = "KEY=VALUE",
      description =
          "A worker config key for the runs through Kafka (repeatable), e.g."
              + " inference.adapter.mode=HYBRID; `docstream worker --help` lists the keys.")
  java.util.Map<String, String> workerConfig = new java.util.LinkedHashMap<>();

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!model.equals("standard") && !model.equals("vit-s") && !model.equals("vit-b")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--model must be standard, vit-s or vit-b, not '" + model + "'");
    }
    if (!model.equals("standard") || part.equals("merge")) {
      if (reps < 1) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--reps must be >= 1");
      }
      BenchVit.run(model, reps, seed, out);
      String stem = "bench-" + model;
      System.out.println(Files.readString(out.resolve(stem + ".md")));
      System.out.println(
          "written: " + out.resolve(stem + ".json") + ", " + out.resolve(stem + ".md"));
      return 0;
    }
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
    if (!part.equals("standard") && !part.equals("throughput")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--part must be standard, throughput, replay or merge, not '" + part + "'");
    }
    java.util.Map<String, String> worker = new java.util.LinkedHashMap<>(workerConfig);
    if (modelThreads > 0) {
      worker.put(SchedulingKeys.MODEL_THREADS_CONFIG, Integer.toString(modelThreads));
    }
    for (String key : worker.keySet()) {
      if (!dev.docstream.inference.worker.WorkerConfig.definition().names().contains(key)) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--worker: unknown worker key '" + key + "'");
      }
    }
    new dev.docstream.inference.worker.WorkerConfig(worker); // a bad value fails here
    Bench.run(models, jobs, reps, seed, work, out, part.equals("throughput"), worker);
    System.out.println(Files.readString(out.resolve("bench.md")));
    System.out.println("written: " + out.resolve("bench.json") + ", " + out.resolve("bench.md"));
    return 0;
  }
}
