package dev.docstream.app.cli;

import dev.docstream.app.EmbeddedStack;
import dev.docstream.app.qc.Analysts;
import dev.docstream.app.qc.ReviewService;
import dev.docstream.embedded.RegistryServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream up}. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Run the embedded stack (broker, schema registry, intake, workers, QC router and review page) until Ctrl-C. Its data folder "
            + "is kept between runs, schema ids included.")
final class UpCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--data",
      defaultValue = "var/up",
      description = "Data folder, reused across runs.")
  Path data;

  @Option(
      names = "--fresh",
      defaultValue = "false",
      arity = "0..1",
      fallbackValue = "true",
      description = "Wipe the data folder first (--fresh, or --fresh true|false).")
  boolean fresh;

  @Option(names = "--workers", defaultValue = "2", description = "Inference workers.")
  int workers;

  @Option(names = "--models", defaultValue = "models", description = "Base model and adapters.")
  Path models;

  @Option(
      names = "--kafka-port",
      defaultValue = "9092",
      description = "Port of the Kafka broker; 0 = any free one.")
  int kafkaPort;

  @Option(
      names = "--registry-port",
      defaultValue = "8081",
      description = "Port of the schema registry's HTTP face; 0 = any free one.")
  int registryPort;

  @Option(
      names = "--adapters-port",
      defaultValue = "8082",
      description = "Port of the adapters registry's read-only HTTP API; 0 = any free one.")
  int adaptersPort;

  @Option(
      names = "--review-port",
      defaultValue = "8083",
      description = "Port of the QC review page; 0 = any free one.")
  int reviewPort;

  @Option(
      names = "--metrics-port",
      defaultValue = "0",
      description = "Port of worker 0's Prometheus endpoint; 0 = any free one.")
  int metricsPort;

  @Override
  public Integer call() throws Exception {
    if (workers < 1) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--workers must be at least 1");
    }
    Checks.requireFreePort(kafkaPort, "--kafka-port");
    Checks.requireFreePort(registryPort, "--registry-port");
    Checks.requireFreePort(adaptersPort, "--adapters-port");
    Checks.requireFreePort(reviewPort, "--review-port");
    EmbeddedStack stack =
        EmbeddedStack.start(StackOptions.of(data, fresh, workers, models, kafkaPort));
    RegistryServer registry = new RegistryServer(stack.registry(), registryPort);
    int metrics = stack.workers().get(0).metrics().serve(metricsPort);
    int adapters = stack.serveAdaptersApi(adaptersPort);
    // A login made at each start: the password is printed here and nowhere else.
    String password = Analysts.randomPassword();
    ReviewService review = stack.startQc(Map.of(), reviewPort, Map.of("analyst", password));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  registry.close();
                  stack.close();
                  System.out.println(
                      "DocStream stopped: workers, intake, schema registry, broker (data kept in "
                          + data
                          + ")");
                  stopped.countDown();
                },
                "up-shutdown"));
    System.out.printf(
        "DocStream is up (ready in %.1f s). Ctrl-C to stop.%n", stack.readyMillis() / 1000.0);
    System.out.println("  bootstrap servers: " + stack.bootstrapServers());
    System.out.println("  schema registry:   " + registry.url());
    System.out.println(
        "  metrics:           http://127.0.0.1:" + metrics + "/metrics (worker embedded-0)");
    System.out.println("  adapters registry: http://127.0.0.1:" + adapters + "/adapters");
    System.out.println("  adapter blobs:     " + stack.blobStore().root());
    System.out.println(
        "  QC review page:    http://localhost:"
            + review.port()
            + "/ (sign in as analyst, password "
            + password
            + ")");
    if (!stack.published().isEmpty()) {
      System.out.println("  published:         " + stack.published() + " (first start)");
    }
    System.out.println("  document types:    " + stack.documentTypes());
    stopped.await();
    return 0;
  }
}
