package dev.docstream.topology.intake;

import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.topology.images.DirectoryImageStore;
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

  /** The same for the replay input (replayed ids are derived, so they never meet live ones). */
  public static final String REPLAY_DEDUPE_STORE = "intake-dedupe-replay";

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
    IntakeProcessor.Settings base =
        new IntakeProcessor.Settings(
            validator::validate,
            DEDUPE_STORE,
            config.dedupeWindow(),
            config.recordMaxBytes(),
            new ProcessingAttempts(config.processingMaxAttempts()));
    DirectoryImageStore images = config.imageStore();
    IntakeProcessor.Settings settings =
        (images == null ? base : base.withImages(images)).withShards(config.keyShards());

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
    if (!config.replayTopic().isEmpty()) {
      addReplayInput(topology, config, registry, settings);
    }
    return topology;
  }

  /**
   * The replay input ({@code verification.jobs.replay}, where {@code docstream replay} writes) as a
   * sub-topology of its own, with its own sinks and dedupe store: Kafka Streams then runs its tasks
   * beside the live ones instead of merging both inputs by timestamp, so a replay backlog never
   * queues ahead of live jobs in intake. Everything it accepts goes to the replay lane.
   */
  private static void addReplayInput(
      Topology topology,
      IntakeConfig config,
      SchemaRegistry registry,
      IntakeProcessor.Settings live) {
    IntakeProcessor.Sinks sinks =
        new IntakeProcessor.Sinks(
            "replay-input-requests",
            "replay-input-replay-requests",
            "replay-input-dead-letters",
            true);
    IntakeProcessor.Settings settings = live.forInput(REPLAY_DEDUPE_STORE, sinks);
    topology.addSource(
        "replay-jobs", new StringDeserializer(), new ByteArrayDeserializer(), config.replayTopic());
    topology.addProcessor(
        "validate-replay", () -> new IntakeProcessor(registry, settings), "replay-jobs");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(REPLAY_DEDUPE_STORE), Serdes.String(), Serdes.Long()),
        "validate-replay");
    topology.addSink(
        sinks.requests(),
        Topics.EXTRACTION_REQUESTS_REPLAY.name(),
        new StringSerializer(),
        new ByteArraySerializer(),
        "validate-replay");
    topology.addSink(
        sinks.replayRequests(),
        Topics.EXTRACTION_REQUESTS_REPLAY.name(),
        new StringSerializer(),
        new ByteArraySerializer(),
        "validate-replay");
    topology.addSink(
        sinks.deadLetters(),
        Topics.VERIFICATION_JOBS_DLQ.name(),
        new StringSerializer(),
        new ByteArraySerializer(),
        "validate-replay");
  }
}
