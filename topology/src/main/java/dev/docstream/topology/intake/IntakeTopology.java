package dev.docstream.topology.intake;

import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.topology.intake.internal.ImageSource;
import dev.docstream.topology.intake.internal.IntakeProcessor;
import dev.docstream.topology.intake.internal.JobValidator;
import dev.docstream.topology.intake.internal.ProcessingAttempts;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * Intake: {@code verification.jobs} -> validate -> {@code extraction.requests} keyed by document
 * type (REPLAY jobs: {@code extraction.requests.replay}, the replay lane), or {@code
 * verification.jobs.dlq} with a reason code.
 *
 * <p>Values are read as raw bytes and decoded inside the processor, so an undecodable record
 * becomes a dead letter with its source topic, partition and offset instead of failing the app; and
 * they are written as bytes the processor serialised, so it can check they fit in a record. (Kafka
 * Streams' own dead-letter queue, KIP-1034, writes the raw record with exception headers; our
 * dead-letter topic carries the DeadLetter contract, so intake writes it itself.)
 */
public final class IntakeTopology {
  /** Job ids (per tenant) accepted within the dedupe window. */
  public static final String DEDUPE_STORE = "intake-dedupe";

  private IntakeTopology() {}

  /** The topology with the static document types of {@code intake.document.types}. */
  public static Topology buildTopology(IntakeConfig config) {
    return buildTopology(config, DocumentTypeCatalog.of(config.documentTypes()));
  }

  /** The topology, for the app and for TopologyTestDriver tests alike. */
  public static Topology buildTopology(IntakeConfig config, DocumentTypeCatalog documentTypes) {
    SchemaRegistry registry =
        SchemaRegistries.forUrl(config.schemaRegistryUrl(), config.schemaRegistryAuth());
    JobValidator validator =
        new JobValidator(
            documentTypes,
            config.imageMaxBytes(),
            config.imageMaxPixels(),
            new ImageSource(config.imageRoot(), config.imageMaxBytes()));
    // One count for all stream threads: a replaced thread must see its predecessor's attempts.
    IntakeProcessor.Settings settings =
        new IntakeProcessor.Settings(
            validator::validate,
            DEDUPE_STORE,
            config.dedupeWindow(),
            config.recordMaxBytes(),
            new ProcessingAttempts(config.processingMaxAttempts()));

    Topology topology = new Topology();
    topology.addSource(
        "jobs",
        new StringDeserializer(),
        new ByteArrayDeserializer(),
        Topics.VERIFICATION_JOBS.name());
    topology.addProcessor("validate", () -> new IntakeProcessor(registry, settings), "jobs");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(DEDUPE_STORE), Serdes.String(), Serdes.Long()),
        "validate");
    topology.addSink(
        IntakeProcessor.REQUESTS,
        Topics.EXTRACTION_REQUESTS.name(),
        new StringSerializer(),
        new ByteArraySerializer(),
        "validate");
    topology.addSink(
        IntakeProcessor.REPLAY_REQUESTS,
        Topics.EXTRACTION_REQUESTS_REPLAY.name(),
        new StringSerializer(),
        new ByteArraySerializer(),
        "validate");
    topology.addSink(
        IntakeProcessor.DEAD_LETTERS,
        Topics.VERIFICATION_JOBS_DLQ.name(),
        new StringSerializer(),
        new ByteArraySerializer(),
        "validate");
    return topology;
  }
}
