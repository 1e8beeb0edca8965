package dev.docstream.inference.worker;

import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GPU worker: a member of one consumer group on {@code extraction.requests}. Each poll is
 * processed by the {@link ExtractionEngine} and its results, dead letters and consumed offsets are
 * committed in one Kafka transaction, so a crash at any moment loses no job and, for a
 * read_committed reader, publishes no result twice.
 *
 * <p>Processing is synchronous between polls: the work in flight is one poll ({@code
 * worker.poll.max.records}), and a rebalance (which happens inside poll) never revokes a
 * partition with uncommitted work. A fenced producer stops the worker; any other Kafka error
 * aborts the transaction, rewinds to the batch's first offsets and tries again with backoff.
 */
public final class InferenceWorker implements Runnable, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceWorker.class);

  private final WorkerConfig config;
  private final ExtractionEngine engine;
  private final Extractor extractor;
  private final WorkerMetrics metrics;
  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaProducer<String, byte[]> producer;
  private final AvroSerde<ExtractionRequest> requestSerde;
  private final AvroSerde<ExtractionResult> resultSerde;
  private final AvroSerde<DeadLetter> deadLetterSerde;
  private final String workerId;
  private volatile boolean running = true;
  private volatile int assignedPartitions;
  private long committedResults;

  private InferenceWorker(WorkerConfig config, Extractor extractor, ExtractionEngine engine, WorkerMetrics metrics,
      SchemaRegistry registry) {
    this.config = config;
    this.extractor = extractor;
    this.engine = engine;
    this.metrics = metrics;
    this.workerId = config.workerId();
    this.requestSerde = Topics.EXTRACTION_REQUESTS.valueSerde(registry);
    this.resultSerde = Topics.EXTRACTION_RESULTS.valueSerde(registry);
    this.deadLetterSerde = Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry);
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
    c.put(ConsumerConfig.GROUP_ID_CONFIG, config.getString(WorkerConfig.GROUP_ID_CONFIG));
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.getInt(WorkerConfig.POLL_RECORDS_CONFIG));
    c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, config.getInt(WorkerConfig.MAX_POLL_INTERVAL_MS_CONFIG));
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId);
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, config.getInt(WorkerConfig.SESSION_TIMEOUT_MS_CONFIG));
    if (config.hasStableId()) {
      // Static membership: a restarted worker takes its old place (and partitions, and so its
      // adapters) without a rebalance or waiting for the session of its dead predecessor to expire.
      c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "docstream-worker-" + workerId);
    }
    consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "docstream-worker-" + workerId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId);
    producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
  }

  /** Loads the base model and adapters named by the config and connects to Kafka. */
  public static InferenceWorker create(WorkerConfig config) throws IOException {
    config.validate();
    Extractor extractor = Extractor.load(config.baseModelDir());
    String sha = ModelCheckpoint.checksum(config.baseModelDir());
    Map<String, int[]> shapes = extractor.block().moduleShapes();
    WorkerMetrics metrics = new WorkerMetrics(config.workerId());
    ExtractionEngine engine = new ExtractionEngine(extractor,
        new DirectoryAdapterStore(config.adapterDir(), sha, shapes), config.getLong(WorkerConfig.CACHE_BYTES_CONFIG),
        "docstream-extractor@" + sha.substring(0, 12), config.workerId(), config.getInt(WorkerConfig.BATCH_SIZE_CONFIG),
        config.missingAdapterPolicy(), metrics, Clock.systemUTC());
    SchemaRegistry registry = SchemaRegistries.forUrl(config.getString(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG),
        config.schemaRegistryAuth());
    return new InferenceWorker(config, extractor, engine, metrics, registry);
  }

  /** The worker's metrics. */
  public WorkerMetrics metrics() {
    return metrics;
  }

  /** The engine, for its counters. */
  public ExtractionEngine engine() {
    return engine;
  }

  /** Partitions this worker owns now (0 until it has joined the group). */
  public int assignedPartitions() {
    return assignedPartitions;
  }

  /** Results committed so far. */
  public long committedResults() {
    return committedResults;
  }

  @Override
  public void run() {
    Duration timeout = Duration.ofMillis(config.getLong(WorkerConfig.POLL_TIMEOUT_MS_CONFIG));
    int failures = 0;
    try {
      consumer.subscribe(List.of(config.getString(WorkerConfig.INPUT_TOPIC_CONFIG)), new ConsumerRebalanceListener() {
        // Work is processed between polls, so nothing is in flight when partitions move.
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          assignedPartitions = consumer.assignment().size() - partitions.size();
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          assignedPartitions = consumer.assignment().size();
        }
      });
      producer.initTransactions();
      LOG.info("worker {} started", workerId);
      while (running) {
        ConsumerRecords<String, byte[]> records = consumer.poll(timeout);
        if (records.isEmpty()) {
          continue;
        }
        metrics.inFlight(records.count());
        try {
          commit(records, process(records));
          failures = 0;
        } catch (ProducerFencedException | InvalidProducerEpochException | FencedInstanceIdException
            | AuthorizationException e) {
          LOG.error("worker {} is fenced or unauthorized; stopping: {}", workerId, e.toString());
          throw e;
        } catch (KafkaException e) {
          if (++failures > config.getInt(WorkerConfig.TX_RETRIES_CONFIG)) {
            LOG.error("worker {}: {} transactions failed in a row; stopping: {}", workerId, failures, e.toString());
            throw e;
          }
          LOG.warn("worker {}: transaction failed ({}), aborting and retrying from the batch start", workerId, e.toString());
          abortQuietly();
          rewind(records);
          sleep(Math.min(5_000, 100L << failures));
        } finally {
          metrics.inFlight(0);
        }
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } finally {
      LOG.info("worker {} stopped after {} results", workerId, committedResults);
    }
  }

  private record Batch(List<ExtractionResult> results, List<ProducerRecord<String, byte[]>> deadLetters) {}

  private Batch process(ConsumerRecords<String, byte[]> records) {
    List<ExtractionRequest> requests = new ArrayList<>(records.count());
    List<ProducerRecord<String, byte[]>> dead = new ArrayList<>();
    String dlq = config.getString(WorkerConfig.DLQ_TOPIC_CONFIG);
    for (ConsumerRecord<String, byte[]> r : records) {
      try {
        ExtractionRequest req = requestSerde.deserialize(r.topic(), r.value());
        if (req == null) {
          throw new WireFormatException(WireFormatException.Reason.CORRUPT_PAYLOAD, "null value");
        }
        requests.add(req);
      } catch (WireFormatException e) {
        if (e.reason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
          throw e; // not the record's fault: abort and retry
        }
        LOG.warn("request at {}-{}@{} undecodable: {}", r.topic(), r.partition(), r.offset(), e.reason());
        DeadLetter d = DeadLetter.newBuilder().setJobId(null).setReason("UNDECODABLE").setDetail(e.getMessage())
            .setSourceTopic(r.topic()).setSourcePartition(r.partition()).setSourceOffset(r.offset())
            .setFailedAt(Instant.now()).setOriginalValue(r.value() == null ? null : ByteBuffer.wrap(r.value())).build();
        dead.add(new ProducerRecord<>(dlq, r.key(), deadLetterSerde.serialize(dlq, d)));
      }
    }
    return new Batch(engine.process(requests), dead);
  }

  private void commit(ConsumerRecords<String, byte[]> records, Batch batch) {
    String topic = config.getString(WorkerConfig.RESULTS_TOPIC_CONFIG);
    producer.beginTransaction();
    for (ExtractionResult r : batch.results()) {
      producer.send(new ProducerRecord<>(topic, r.getJobId(), resultSerde.serialize(topic, r)));
    }
    batch.deadLetters().forEach(producer::send);
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : records.partitions()) {
      List<ConsumerRecord<String, byte[]>> part = records.records(tp);
      offsets.put(tp, new OffsetAndMetadata(part.get(part.size() - 1).offset() + 1));
    }
    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
    producer.commitTransaction();
    committedResults += batch.results().size();
    Instant now = Instant.now();
    batch.results().forEach(r -> metrics.result(r, now));
  }

  private void rewind(ConsumerRecords<String, byte[]> records) {
    for (TopicPartition tp : records.partitions()) {
      if (consumer.assignment().contains(tp)) {
        consumer.seek(tp, records.records(tp).get(0).offset());
      }
    }
  }

  private void abortQuietly() {
    try {
      producer.abortTransaction();
    } catch (KafkaException e) {
      LOG.warn("worker {}: abort failed: {}", workerId, e.toString());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Asks the loop to stop; safe from any thread. */
  public void stop() {
    running = false;
    consumer.wakeup();
  }

  /** Closes Kafka clients and model; call after {@link #run()} returned. */
  @Override
  public void close() {
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    producer.close(Duration.ofSeconds(5));
    engine.close();
    extractor.close();
    metrics.close();
  }
}
