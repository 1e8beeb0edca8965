package dev.docstream.topology.intake;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.topology.intake.internal.ImageSource;
import dev.docstream.topology.intake.internal.IntakeProcessor;
import dev.docstream.topology.intake.internal.JobValidator;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * Intake: {@code verification.jobs} -> validate -> {@code extraction.requests} keyed by document
 * type, or {@code verification.jobs.dlq} with a reason code.
 *
 * <p>Values are read as raw bytes and decoded inside the validator, so an undecodable record
 * becomes a dead letter with its source topic, partition and offset instead of failing the app.
 * (Kafka Streams' own dead-letter queue, KIP-1034, writes the raw record with exception headers;
 * our dead-letter topic carries the DeadLetter contract, so intake writes it itself.)
 */
public final class IntakeTopology {
  /** Job ids accepted within the dedupe window. */
  public static final String DEDUPE_STORE = "intake-dedupe";

  private IntakeTopology() {}

  /** The topology, for {@code main} and for TopologyTestDriver tests alike. */
  public static Topology buildTopology(IntakeConfig config) {
    SchemaRegistry registry = SchemaRegistries.forUrl(config.schemaRegistryUrl(), config.schemaRegistryAuth());
    JobValidator validator = new JobValidator(config.documentTypes(), config.imageMaxBytes(),
        new ImageSource(config.imageRoot(), config.imageMaxBytes()));

    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(DEDUPE_STORE), Serdes.String(), Serdes.Long()));
    KStream<String, SpecificRecord> outcomes = builder
        .stream(Topics.VERIFICATION_JOBS.name(), Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("jobs"))
        .process(() -> new IntakeProcessor(registry, validator, DEDUPE_STORE, config.dedupeWindow()),
            Named.as("validate"), DEDUPE_STORE);
    outcomes.split(Named.as("intake-"))
        .branch((key, value) -> value instanceof ExtractionRequest,
            Branched.withConsumer(accepted -> accepted
                .mapValues(v -> (ExtractionRequest) v, Named.as("as-request"))
                .to(Topics.EXTRACTION_REQUESTS.name(), Produced.with(Serdes.String(),
                    Topics.EXTRACTION_REQUESTS.valueSerde(registry)).withName("requests")), "accepted"))
        .defaultBranch(Branched.withConsumer(rejected -> rejected
            .mapValues(v -> (DeadLetter) v, Named.as("as-dead-letter"))
            .to(Topics.VERIFICATION_JOBS_DLQ.name(), Produced.with(Serdes.String(),
                Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry)).withName("dead-letters")), "rejected"));
    return builder.build();
  }
}
