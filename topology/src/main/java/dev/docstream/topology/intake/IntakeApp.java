package dev.docstream.topology.intake;

import dev.docstream.topology.images.DirectoryImageStore;
import dev.docstream.topology.images.ImageSweeper;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts and stops intake (the {@code docstream intake} command and the embedded stack use it). */
public final class IntakeApp {
  private static final Logger LOG = LoggerFactory.getLogger(IntakeApp.class);

  private IntakeApp() {}

  /**
   * Stops intake and leaves its consumer group, so that the next start gets its partitions at once
   * (Kafka Streams stays in the group on a plain close, and a dynamic member that stays is waited
   * for until its session expires: 45 s by default).
   */
  public static void stop(KafkaStreams streams, Duration timeout) {
    streams.close(
        CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
            .withTimeout(timeout));
  }

  /**
   * Starts intake on the static document types of {@code intake.document.types}; returns the
   * running app (the caller closes it, with {@link #stop}).
   */
  public static KafkaStreams start(IntakeConfig config) {
    if (config.documentTypesFromRegistry()) {
      throw new IllegalArgumentException(
          IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG
              + "=registry needs a catalog that follows the registry; pass one, or set it to static");
    }
    return start(config, DocumentTypeCatalog.of(config.documentTypes()), (now, before) -> {});
  }

  /**
   * Starts intake with the document types a catalog serves and a listener for its state (set before
   * start, as Kafka Streams requires).
   */
  public static KafkaStreams start(
      IntakeConfig config, DocumentTypeCatalog documentTypes, KafkaStreams.StateListener listener) {
    KafkaStreams streams =
        new KafkaStreams(
            IntakeTopology.buildTopology(config, documentTypes), config.streamsProperties());
    streams.setStateListener(listener);
    // A thread dies only on faults that are not a record's (registry outage, broker errors):
    // replace it, and the records since the last commit are processed again (exactly-once).
    streams.setUncaughtExceptionHandler(
        e -> {
          LOG.error("intake stream thread failed; replacing it: {}", e.toString());
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    streams.start();
    DirectoryImageStore images = config.imageStore();
    if (images != null) {
      ImageSweeper.start(
          images,
          config.imagesSweepInterval(),
          Clock.systemUTC(),
          () ->
              streams.state().isRunningOrRebalancing()
                  || streams.state() == KafkaStreams.State.CREATED);
    }
    return streams;
  }
}
