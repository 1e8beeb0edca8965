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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code docstream load}. */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Produce synthetic verification jobs (documents of the shipped adapters' types, a Zipf mix, a share "
            + "of bad ones) to a Kafka cluster. Its defaults reach a `docstream up` on this machine.")
final class LoadCommand implements Callable<Integer> {
  @Mixin JobOptions load;

  @Mixin ClusterOptions cluster;

  @Spec CommandSpec spec;

  @Option(
      names = "--models",
      defaultValue = "models",
      description = "Where the adapters (the types to use) are.")
  Path models;

  @Override
  public Integer call() {
    load.validate(spec);
    cluster.requireReachable();
    List<String> types =
        new DirectoryAdapterStore(models.resolve("adapters"), "", Map.of())
            .documentTypes().stream().toList();
    if (types.isEmpty()) {
      throw new UserError("no adapters under " + models.resolve("adapters") + " (pass --models)");
    }
    List<LoadGenerator.Job> generated =
        LoadGenerator.generate(types, load.jobs, 1.1, load.bad, load.seed);
    LoadGenerator.produce(
        cluster.bootstrap, SchemaRegistries.forUrl(cluster.registry, null), generated, load.rate);
    System.out.println("produced " + generated.size() + " jobs to " + cluster.bootstrap);
    return 0;
  }
}
