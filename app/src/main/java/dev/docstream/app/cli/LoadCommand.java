package dev.docstream.app.cli;

import dev.docstream.app.LoadGenerator;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.schemas.registry.SchemaRegistries;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream load}. */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Produce synthetic verification jobs (documents of the shipped adapters' types, a Zipf mix, a share "
            + "of bad ones) to a Kafka cluster. Its defaults reach a `docstream up` on this machine.")
final class LoadCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  @Option(names = "--jobs", defaultValue = "1500", description = "Jobs to produce.")
  int jobs;

  @Option(names = "--bad", defaultValue = "0.02", description = "Share of bad jobs, 0 to 1.")
  double bad;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "Jobs per second; 0 = as fast as possible.")
  double rate;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Seed of the synthetic jobs (job ids include it).")
  long seed;

  @Option(
      names = "--models",
      defaultValue = "models",
      description = "Where the adapters (the types to use) are.")
  Path models;

  @Override
  public Integer call() {
    cluster.requireReachable();
    List<String> types =
        new DirectoryAdapterStore(models.resolve("adapters"), "", Map.of())
            .documentTypes().stream().toList();
    if (types.isEmpty()) {
      throw new UserError("no adapters under " + models.resolve("adapters") + " (pass --models)");
    }
    List<LoadGenerator.Job> generated = LoadGenerator.generate(types, jobs, 1.1, bad, seed);
    LoadGenerator.produce(
        cluster.bootstrap, SchemaRegistries.forUrl(cluster.registry, null), generated, rate);
    System.out.println("produced " + generated.size() + " jobs to " + cluster.bootstrap);
    return 0;
  }
}
