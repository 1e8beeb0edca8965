package dev.docstream.app.cli;

import dev.docstream.app.Simulate;
import dev.docstream.inference.sim.Costs;
import dev.docstream.inference.sim.Simulation.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code docstream simulate}. */
@Command(
    name = "simulate",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Run the workers' real scheduler (adapter scheduler, group planner, Kafka's cooperative-sticky "
            + "assignor) on simulated Zipf traffic over many document types, with the model "
            + "replaced by measured costs; prints a table, writes simulate.json, simulate.md and "
            + "simulate-p95.png.")
final class SimulateCommand implements Callable<Integer> {
  @Option(names = "--types", defaultValue = "2000", description = "Document types.")
  int types;

  @Option(names = "--zipf", defaultValue = "1.1", description = "Zipf exponent of type traffic.")
  double zipf;

  @Option(names = "--jobs", defaultValue = "100000", description = "Jobs per configuration.")
  int jobs;

  @Option(
      names = "--configs",
      defaultValue = "8x2,16x4,32x8,64x16",
      split = ",",
      description = "PARTITIONSxWORKERS pairs.")
  List<String> configs;

  @Option(
      names = "--load",
      defaultValue = "0.7",
      description =
          "The table's load, as a share of each configuration's capacity (the jobs/s it serves "
              + "from a backlog of the same traffic).")
  double load;

  @Option(
      names = "--loads",
      defaultValue = "0.3,0.5,0.6,0.7,0.8,0.9",
      split = ",",
      description = "The plot's loads.")
  List<Double> loads;

  @Option(names = "--cache", defaultValue = "64", description = "Adapters each worker caches.")
  int cache;

  @Option(
      names = "--hot-types",
      defaultValue = "10",
      description = "The most frequent types spread over --hot-shards keys (a table row; 0: none).")
  int hotTypes;

  @Option(names = "--hot-shards", defaultValue = "4", description = "Keys per spread hot type.")
  int hotShards;

  @Option(
      names = "--policies",
      defaultValue = "merged,unmerged,hybrid",
      split = ",",
      description = "Adapter policies to compare: merged, unmerged, hybrid.")
  List<String> policies;

  @Option(
      names = "--costs",
      description =
          "A bench-<model>.json of `docstream bench --part merge` to take the costs from "
              + "(default: out/bench/bench-vit-b.json, else docs/benchmarks/bench-vit-b-2core-cpu.json).")
  Path costs;

  @Option(names = "--forward1-ms", description = "Override: forward pass of 1 image, ms.")
  Double forward1;

  @Option(names = "--forward32-ms", description = "Override: forward pass of 32 images, ms.")
  Double forward32;

  @Option(names = "--swap-ms", description = "Override: adapter swap, ms.")
  Double swap;

  @Option(names = "--load-ms", description = "Override: loading an uncached adapter, ms.")
  Double loadMs;

  @Option(names = "--unmerged-factor", description = "Override: unmerged / merged forward time.")
  Double unmergedFactor;

  @Option(names = "--seed", defaultValue = "7", description = "Seed of the arrivals.")
  long seed;

  @Option(names = "--out", defaultValue = "out/simulate", description = "Where the report goes.")
  Path out;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (types < 1 || jobs < 1 || cache < 1 || hotShards < 1 || hotTypes < 0) {
      throw usage("--types, --jobs, --cache and --hot-shards must be >= 1, --hot-types >= 0");
    }
    if (!(load > 0) || loads.stream().anyMatch(l -> !(l > 0))) {
      throw usage("--load and --loads must be > 0");
    }
    List<int[]> pairs = new ArrayList<>();
    for (String c : configs) {
      String[] pw = c.trim().toLowerCase(Locale.ROOT).split("x");
      try {
        pairs.add(new int[] {Integer.parseInt(pw[0]), Integer.parseInt(pw[1])});
      } catch (RuntimeException e) {
        throw usage("--configs wants PARTITIONSxWORKERS pairs such as 16x4, not '" + c + "'");
      }
      if (pairs.get(pairs.size() - 1)[0] < 1 || pairs.get(pairs.size() - 1)[1] < 1) {
        throw usage("--configs: partitions and workers must be >= 1 in '" + c + "'");
      }
    }
    List<Policy> chosen = new ArrayList<>();
    for (String p : policies) {
      try {
        chosen.add(Policy.valueOf(p.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw usage("--policies: merged, unmerged or hybrid, not '" + p + "'");
      }
    }
    Path source = costs;
    if (source == null) {
      source = Path.of("out/bench/bench-vit-b.json");
      if (!Files.isRegularFile(source)) {
        source = Path.of("docs/benchmarks/bench-vit-b-2core-cpu.json");
      }
    }
    if (!Files.isRegularFile(source)) {
      throw usage(
          "no bench report at "
              + source
              + ": run `docstream bench --model vit-b` or give --costs FILE");
    }
    Costs c = Simulate.costsFrom(source);
    Costs given =
        new Costs(
            forward1 != null ? forward1 : c.forward1Ms(),
            forward32 != null ? forward32 : c.forward32Ms(),
            swap != null ? swap : c.swapMs(),
            loadMs != null ? loadMs : c.loadMs(),
            unmergedFactor != null ? unmergedFactor : c.unmergedFactor());
    String described =
        given.equals(c) ? source.toString() : source + " with overrides from the command line";
    Simulate.run(
        new Simulate.Options(
            types, zipf, jobs, pairs, load, loads, cache, hotTypes, hotShards, chosen, seed, given,
            described),
        out);
    System.out.println(Files.readString(out.resolve("simulate.md")));
    System.out.println(
        "written: "
            + out.resolve("simulate.json")
            + ", "
            + out.resolve("simulate.md")
            + ", "
            + out.resolve("simulate-p95.png"));
    return 0;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
