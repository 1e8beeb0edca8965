package dev.docstream.app.cli;

import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.app.RegistryCatalog;
import dev.docstream.topology.intake.DocumentTypeCatalog;
import dev.docstream.topology.intake.IntakeApp;
import dev.docstream.topology.intake.IntakeConfig;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code docstream intake}. */
@Command(
    name = "intake",
    mixinStandardHelpOptions = true,
    description =
        "Run the intake topology against a Kafka cluster: verification.jobs -> extraction.requests, "
            + "rejects -> verification.jobs.dlq. Stops cleanly on Ctrl-C.")
final class IntakeCommand implements Callable<Integer> {
  @Mixin ComponentSettings settings;

  @Override
  public Integer call() throws Exception {
    IntakeConfig c = new IntakeConfig(settings.read(IntakeConfig.definition(), Set.of()));
    Checks.requireBroker(c.getString(IntakeConfig.BOOTSTRAP_SERVERS_CONFIG));
    Checks.requireRegistry(c.schemaRegistryUrl());
    DocumentTypeCatalog types;
    if (c.documentTypesFromRegistry()) {
      try {
        types = RegistryCatalog.follow(c);
      } catch (RegistryException e) {
        throw new UserError(e.getMessage());
      }
    } else {
      types = DocumentTypeCatalog.of(c.documentTypes());
    }
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean failed = new AtomicBoolean();
    KafkaStreams streams =
        IntakeApp.start(
            c,
            types,
            (now, before) -> {
              if (now == KafkaStreams.State.ERROR) {
                failed.set(true); // for example a topic that does not exist
                stopped.countDown();
              }
            });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  IntakeApp.stop(streams, Duration.ofSeconds(30));
                  System.out.println(
                      "intake stopped (left group "
                          + c.getString(IntakeConfig.APPLICATION_ID_CONFIG)
                          + ")");
                  stopped.countDown();
                },
                "intake-shutdown"));
    System.out.println(
        "intake running against "
            + c.getString(IntakeConfig.BOOTSTRAP_SERVERS_CONFIG)
            + " (application id "
            + c.getString(IntakeConfig.APPLICATION_ID_CONFIG)
            + "); Ctrl-C to stop");
    stopped.await();
    if (failed.get()) {
      System.err.println("error: intake stopped on an error (see the log above)");
      IntakeApp.stop(streams, Duration.ofSeconds(10));
      return DocstreamCommand.FAILED;
    }
    return 0;
  }
}
