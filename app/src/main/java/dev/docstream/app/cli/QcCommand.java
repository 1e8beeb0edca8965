package dev.docstream.app.cli;

import dev.docstream.app.qc.Analysts;
import dev.docstream.app.qc.QcExport;
import dev.docstream.app.qc.ReviewConfig;
import dev.docstream.app.qc.ReviewService;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.topology.images.DirectoryImageStore;
import dev.docstream.topology.intake.IntakeApp;
import dev.docstream.topology.qc.QcRouterConfig;
import dev.docstream.topology.qc.QcRouterTopology;
import dev.docstream.topology.qc.review.ReviewLog;
import dev.docstream.topology.qc.review.ReviewQueue;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream qc}: the QC router, the review service, exports and analysts' logins. */
@Command(
    name = "qc",
    mixinStandardHelpOptions = true,
    description =
        "Human quality control: sample results for review, serve the review page, export corrections.",
    subcommands = {
      QcCommand.Route.class,
      QcCommand.Serve.class,
      QcCommand.Export.class,
      QcCommand.HashPassword.class
    })
final class QcCommand {
  /** {@code docstream qc route}. */
  @Command(
      name = "route",
      mixinStandardHelpOptions = true,
      description =
          "Run the QC router (Kafka Streams, exactly once): extraction.results -> qc.review, sampling "
              + "low-confidence results, a random audit share, new adapter versions and base-model fallbacks. "
              + "Stops cleanly on Ctrl-C.")
  static final class Route implements Callable<Integer> {
    @Mixin ComponentSettings settings;

    @Override
    public Integer call() throws Exception {
      QcRouterConfig c = new QcRouterConfig(settings.read(QcRouterConfig.definition(), Set.of()));
      Checks.requireBroker(c.getString(QcRouterConfig.BOOTSTRAP_SERVERS_CONFIG));
      Checks.requireRegistry(c.schemaRegistryUrl());
      KafkaStreams streams = QcRouterTopology.start(c);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    IntakeApp.stop(streams, Duration.ofSeconds(30));
                    System.out.println("QC router stopped");
                    stopped.countDown();
                  },
                  "qc-router-shutdown"));
      System.out.println(
          "QC router running against "
              + c.getString(QcRouterConfig.BOOTSTRAP_SERVERS_CONFIG)
              + "; Ctrl-C to stop");
      stopped.await();
      return 0;
    }
  }

  /** {@code docstream qc serve}. */
  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description =
          "Run the review service: the analysts' review page and API, its queue kept in qc.review, qc.leases "
              + "and qc.verdicts. Stops cleanly on Ctrl-C.")
  static final class Serve implements Callable<Integer> {
    @Mixin ComponentSettings settings;

    @Override
    public Integer call() throws Exception {
      ReviewConfig c = new ReviewConfig(settings.read(ReviewConfig.definition(), Set.of()));
      Checks.requireBroker(c.getString(ReviewConfig.BOOTSTRAP_SERVERS_CONFIG));
      Checks.requireRegistry(c.getString(ReviewConfig.SCHEMA_REGISTRY_URL_CONFIG));
      ReviewService service;
      try {
        service = ReviewService.start(c, null, Clock.systemUTC());
      } catch (IllegalArgumentException | IllegalStateException e) {
        throw new UserError(e.getMessage());
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    service.close();
                    System.out.println("review service stopped");
                    stopped.countDown();
                  },
                  "review-shutdown"));
      System.out.println(
          "review page: http://"
              + c.getString(ReviewConfig.HOST_CONFIG)
              + ":"
              + service.port()
              + "/ ("
              + service.log().queue().size()
              + " tasks); Ctrl-C to stop");
      if (service.metricsPort() >= 0) {
        System.out.println("metrics: http://localhost:" + service.metricsPort() + "/metrics");
      }
      stopped.await();
      return 0;
    }
  }

  /** {@code docstream qc export}. */
  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Write the reviewed documents with their corrected labels (manifest.jsonl + images/) for adapter "
              + "training: docstream train adapter --reviewed DIR. The folder holds personal data.")
  static final class Export implements Callable<Integer> {
    @Mixin ClusterOptions cluster;

    @Option(names = "--out", required = true, description = "Folder to write.")
    Path out;

    @Option(
        names = "--images",
        defaultValue = "var/up/images",
        description = "The image store (intake.images.dir).")
    Path images;

    @Option(
        names = "--type",
        description = "Only these document types (repeatable); all when absent.")
    List<String> types = List.of();

    @Override
    public Integer call() throws Exception {
      cluster.requireReachable();
      System.err.println("reading qc.review and qc.verdicts from " + cluster.bootstrap + " ...");
      ReviewQueue queue =
          ReviewLog.snapshot(
              Map.of("bootstrap.servers", cluster.bootstrap),
              SchemaRegistries.forUrl(cluster.registry, null),
              Duration.ofSeconds(60));
      QcExport.Counts n =
          QcExport.export(
              queue,
              new DirectoryImageStore(images, Duration.ofDays(36_500), Clock.systemUTC()),
              Set.copyOf(types),
              out);
      System.out.printf(
          "exported %d reviewed documents (%d corrected) to %s; left out: %d unreadable, %d without an image%n",
          n.exported(), n.corrected(), out, n.unreadable(), n.imageMissing());
      n.byType().forEach((t, k) -> System.out.printf("  %s: %d%n", t, k));
      return 0;
    }
  }

  /** {@code docstream qc hash-password}. */
  @Command(
      name = "hash-password",
      mixinStandardHelpOptions = true,
      description =
          "Read a password on standard input and print the qc.analysts entry for it (name:pbkdf2-sha256$...).")
  static final class HashPassword implements Callable<Integer> {
    @Option(names = "--analyst", required = true, description = "The analyst's sign-in name.")
    String analyst;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      String password =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      if (password == null || password.isEmpty()) {
        throw new UserError("no password on standard input");
      }
      if (analyst.contains(":") || analyst.contains(",") || analyst.isBlank()) {
        throw new UserError("--analyst must be a name without ':' or ','");
      }
      spec.commandLine().getOut().println(analyst + ":" + Analysts.hash(password));
      return 0;
    }
  }
}
