package dev.docstream.topology.intake;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import dev.docstream.config.CommandLineProperties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs intake against a Kafka cluster: {@code IntakeApp [--config FILE] [key=value ...]}. */
public final class IntakeApp {
  private static final Logger LOG = LoggerFactory.getLogger(IntakeApp.class);

  private IntakeApp() {}

  /**
   * Stops intake and leaves its consumer group, so that the next start gets its partitions at
   * once (Kafka Streams stays in the group on a plain close, and a dynamic member that stays is
   * waited for until its session expires: 45 s by default).
   */
  public static void stop(KafkaStreams streams, Duration timeout) {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(timeout));
  }

  /** Starts intake; returns the running app (the caller closes it, with {@link #stop}). */
  public static KafkaStreams start(IntakeConfig config) {
    KafkaStreams streams = new KafkaStreams(IntakeTopology.buildTopology(config), config.streamsProperties());
    // A thread dies only on faults that are not a record's (registry outage, broker errors): replace
    // it, and the records since the last commit are processed again (exactly-once).
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("intake stream thread failed; replacing it: {}", e.toString());
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.start();
    return streams;
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("Usage: intake [--config FILE] [key=value ...]\n\n"
          + "Validates verification.jobs into extraction.requests, rejects into verification.jobs.dlq.\n\n"
          + "Configuration keys:\n" + IntakeConfig.definition().toRst());
      return;
    }
    IntakeConfig config;
    try {
      config = new IntakeConfig(CommandLineProperties.parse(args));
    } catch (ConfigException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }
    KafkaStreams streams = start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop(streams, Duration.ofSeconds(30));
      stopped.countDown();
    }, "intake-shutdown"));
    stopped.await();
  }
}
