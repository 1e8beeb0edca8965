package dev.docstream.topology.qc;

import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.topology.qc.internal.QcRouterProcessor;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QC routing: {@code extraction.results} -> sample -> {@code qc.review}, exactly once. The rules
 * are {@link QcSampler}'s; results are read as bytes and decoded in the processor, so one bad
 * record is skipped rather than failing the app.
 */
public final class QcRouterTopology {
  private static final Logger LOG = LoggerFactory.getLogger(QcRouterTopology.class);

  private QcRouterTopology() {}

  /** The topology, for the app and for TopologyTestDriver tests alike. */
  public static Topology buildTopology(QcRouterConfig config) {
    SchemaRegistry registry = SchemaRegistries.forUrl(config.schemaRegistryUrl(), null);
    QcSampler sampler = config.sampler();
    AvroSerde<QcTask> tasks = Topics.QC_REVIEW.valueSerde(registry);
    Topology topology = new Topology();
    topology.addSource(
        "results",
        new StringDeserializer(),
        new ByteArrayDeserializer(),
        Topics.EXTRACTION_RESULTS.name());
    topology.addProcessor(
        "sample", () -> new QcRouterProcessor(registry, sampler, config.dedupeWindow()), "results");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(QcRouterProcessor.TASKED_STORE),
            Serdes.String(),
            Serdes.Long()),
        "sample");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(QcRouterProcessor.ADAPTER_RESULTS_STORE),
            Serdes.String(),
            Serdes.Long()),
        "sample");
    topology.addSink(
        "review-tasks", Topics.QC_REVIEW.name(), new StringSerializer(), tasks, "sample");
    return topology;
  }

  /** Starts the router; the caller closes it. */
  public static KafkaStreams start(QcRouterConfig config) {
    KafkaStreams streams = new KafkaStreams(buildTopology(config), config.streamsProperties());
    // As intake: a thread dies only on faults that are not a record's; replace it, and the
    // records since the last commit are processed again (exactly-once).
    streams.setUncaughtExceptionHandler(
        e -> {
          LOG.error("QC router stream thread failed; replacing it: {}", e.toString());
          return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
    streams.start();
    return streams;
  }
}
