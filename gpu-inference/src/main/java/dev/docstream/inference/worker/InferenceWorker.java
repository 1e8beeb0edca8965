package dev.docstream.inference.worker;

import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.worker.internal.RecordBuffer;
import dev.docstream.inference.worker.internal.RequestDecoder;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
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
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GPU worker: a member of one consumer group on {@code extraction.requests}. Two threads:
 *
 * <ul>
 *   <li>the polling thread (the one that calls {@link #run()}) owns the consumer. It polls all the
 *       time, keeps what it polled in a {@link RecordBuffer}, and hands the next batch of up to
 *       {@code worker.poll.max.records} records to the inference thread when that one is free.
 *       Backpressure: above {@code worker.buffer.max.records} buffered records it pauses its
 *       partitions and goes on polling (so the group never sees it as stuck), and resumes them
 *       once the buffer is down to half.
 *   <li>the inference thread runs each batch through the {@link ExtractionEngine} and commits its
 *       results, dead letters and consumed offsets in one Kafka transaction. One batch is in
 *       flight at a time, so offsets are committed in order and a crash at any moment loses no
 *       job and, for a read_committed reader, publishes no result twice.
 * </ul>
 *
 * <p>A rebalance (inside poll) waits for the batch in flight to commit before partitions move,
 * and forgets buffered records of the partitions that leave. A fenced producer stops the worker;
 * any other Kafka error aborts the transaction (or, where it cannot be aborted, as after a commit
 * that timed out, replaces the producer: the new one fences the old and the coordinator settles
 * its open transaction), seeks the batch's partitions back to their committed offsets (dropping
 * what was buffered behind them) and tries again with backoff. Seeking to the committed offsets,
 * not to the batch start, is what keeps a commit that went through unseen from being redone.
 */
public final class InferenceWorker implements Runnable, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceWorker.class);

  private final WorkerConfig config;
  private final ExtractionEngine engine;
  private final Extractor extractor;
  private final WorkerMetrics metrics;
  private final KafkaConsumer<String, byte[]> consumer;
  private final Map<String, Object> producerConfig;
  // Inference thread only (and close(), after run() returned):
  private KafkaProducer<String, byte[]> producer;
  private boolean producerReady;
  private boolean inTransaction;
  private final RequestDecoder decoder;
  private final AvroSerde<ExtractionResult> resultSerde;
  private final String workerId;
  private final int batchRecords;
  private final int bufferRecords;
  private final ExecutorService inference;
  private final RecordBuffer<String, byte[]> buffer = new RecordBuffer<>();
  private final AtomicLong committedResults = new AtomicLong();
  private volatile boolean running = true;
  private volatile int assignedPartitions;
  private volatile RuntimeException failure;
  /** The group generation offsets are committed under: refreshed by the polling thread. */
  private volatile ConsumerGroupMetadata groupMetadata;
  // Polling thread only:
  private InFlight inFlight;
  private boolean paused;
  private int failures;

  /** A batch handed to the inference thread, and its transaction's outcome. */
  private record InFlight(List<ConsumerRecord<String, byte[]>> records, Future<?> done) {}

  private InferenceWorker(WorkerConfig config, Extractor extractor, ExtractionEngine engine, WorkerMetrics metrics,
      SchemaRegistry registry) {
    this.config = config;
    this.extractor = extractor;
    this.engine = engine;
    this.metrics = metrics;
    this.workerId = config.workerId();
    this.decoder = new RequestDecoder(Topics.EXTRACTION_REQUESTS.valueSerde(registry),
        Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry), config.getString(WorkerConfig.DLQ_TOPIC_CONFIG),
        config.getInt(WorkerConfig.RECORD_MAX_BYTES_CONFIG), Clock.systemUTC());
    this.resultSerde = Topics.EXTRACTION_RESULTS.valueSerde(registry);
    this.batchRecords = config.getInt(WorkerConfig.POLL_RECORDS_CONFIG);
    this.bufferRecords = config.getInt(WorkerConfig.BUFFER_RECORDS_CONFIG);
    this.inference = Executors.newSingleThreadExecutor(r -> new Thread(r, "docstream-inference-" + workerId));
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId);
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, config.getInt(WorkerConfig.SESSION_TIMEOUT_MS_CONFIG));
    c.putAll(config.consumerOverrides());
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
    c.put(ConsumerConfig.GROUP_ID_CONFIG, config.getString(WorkerConfig.GROUP_ID_CONFIG));
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.getInt(WorkerConfig.POLL_RECORDS_CONFIG));
    c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, config.getInt(WorkerConfig.MAX_POLL_INTERVAL_MS_CONFIG));
    if (config.hasStableId()) {
      // Static membership: a restarted worker takes its old place (and partitions, and so its
      // adapters) without a rebalance or waiting for the session of its dead predecessor to expire.
      c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "docstream-worker-" + workerId);
    }
    consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId);
    p.putAll(config.producerOverrides());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "docstream-worker-" + workerId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, config.getInt(WorkerConfig.RECORD_MAX_BYTES_CONFIG));
    producerConfig = Map.copyOf(p);
    producer = newProducer();
  }

  private KafkaProducer<String, byte[]> newProducer() {
    return new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
  }

  /** Loads the base model and adapters named by the config and connects to Kafka. */
  public static InferenceWorker create(WorkerConfig config) throws IOException {
    config.validate();
    Extractor extractor = Extractor.load(config.baseModelDir());
    String sha = ModelCheckpoint.checksum(config.baseModelDir());
    Map<String, int[]> shapes = extractor.block().moduleShapes();
    WorkerMetrics metrics = new WorkerMetrics(config.workerId());
    ExtractionEngine.Options options = ExtractionEngine.Options.defaults("docstream-extractor@" + sha.substring(0, 12),
            config.workerId())
        .withCacheBytes(config.getLong(WorkerConfig.CACHE_BYTES_CONFIG))
        .withMicroBatch(config.getInt(WorkerConfig.BATCH_SIZE_CONFIG))
        .withPolicy(config.missingAdapterPolicy())
        .withMaxImagePixels(config.getLong(WorkerConfig.IMAGE_MAX_PIXELS_CONFIG));
    ExtractionEngine engine = new ExtractionEngine(extractor,
        new DirectoryAdapterStore(config.adapterDir(), sha, shapes), options, metrics, Clock.systemUTC());
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

  /** The error that stopped {@link #run()}, or null while it runs or after a clean stop. */
  public RuntimeException failure() {
    return failure;
  }

  /** Results committed so far. */
  public long committedResults() {
    return committedResults.get();
  }

  @Override
  public void run() {
    Duration idle = Duration.ofMillis(config.getLong(WorkerConfig.POLL_TIMEOUT_MS_CONFIG));
    Duration busy = Duration.ofMillis(Math.min(10, idle.toMillis())); // check the batch in flight often
    try {
      consumer.subscribe(List.of(config.getString(WorkerConfig.INPUT_TOPIC_CONFIG)), new Rebalance());
      producer.initTransactions(); // before the inference thread's first task, which sees it done
      producerReady = true;
      LOG.info("worker {} started", workerId);
      while (running) {
        ConsumerRecords<String, byte[]> records = consumer.poll(inFlight == null ? idle : busy);
        groupMetadata = consumer.groupMetadata();
        buffer.add(records);
        finish(false);
        if (inFlight == null && !buffer.isEmpty()) {
          List<ConsumerRecord<String, byte[]>> batch = buffer.take(batchRecords);
          inFlight = new InFlight(batch, inference.submit(() -> processAndCommit(batch)));
        }
        applyBackpressure();
        metrics.inFlight(buffer.size() + (inFlight == null ? 0 : inFlight.records().size()));
      }
    } catch (WakeupException e) {
      if (running) {
        failure = e;
        throw e;
      }
    } catch (RuntimeException e) {
      failure = e;
      LOG.error("worker {} stopped on an error", workerId, e);
      throw e;
    } finally {
      finishQuietly();
      inference.shutdown();
      metrics.inFlight(0);
      LOG.info("worker {} stopped after {} results", workerId, committedResults.get());
    }
  }

  /** Partitions move only after the batch in flight has committed (or failed and rewound). */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      groupMetadata = consumer.groupMetadata();
      finish(true);
      buffer.drop(partitions);
      assignedPartitions = consumer.assignment().size() - partitions.size();
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions); // its commit fails: the new owner reads those records again
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      if (paused) {
        consumer.pause(partitions);
      }
      assignedPartitions = consumer.assignment().size();
    }
  }

  /**
   * Ends the batch in flight if it is done (or waits for it): on success nothing is left to do;
   * a failure is handled here, on the polling thread, which owns the consumer.
   */
  private void finish(boolean wait) {
    if (inFlight == null || (!wait && !inFlight.done().isDone())) {
      return;
    }
    InFlight batch = inFlight;
    inFlight = null;
    try {
      batch.done().get();
      failures = 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rewind(batch.records());
    } catch (ExecutionException e) {
      onFailure(batch.records(), e.getCause());
    }
  }

  /**
   * Errors after which this worker must not write again: another producer owns its transactional
   * id now, another consumer its static membership, or it lacks rights (also when wrapped, as
   * send() wraps them). An expired transaction (the coordinator aborted it after
   * transaction.timeout.ms, say after a stall) is not one of them: it surfaces as
   * InvalidProducerEpochException, and abortTransaction() re-initialises the producer under a
   * bumped epoch, so the batch is retried like any other failed transaction.
   */
  public static boolean isFatal(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ProducerFencedException || t instanceof FencedInstanceIdException
          || t instanceof AuthorizationException) {
        return true;
      }
    }
    return false;
  }

  private void onFailure(List<ConsumerRecord<String, byte[]>> records, Throwable cause) {
    if (isFatal(cause)) {
      LOG.error("worker {} is fenced or unauthorized; stopping: {}", workerId, cause.toString());
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    if (!(cause instanceof KafkaException kafka)) {
      LOG.error("worker {}: batch failed; stopping: {}", workerId, cause.toString());
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    metrics.transactionFailed();
    if (++failures > config.getInt(WorkerConfig.TX_RETRIES_CONFIG)) {
      LOG.error("worker {}: {} transactions failed in a row; stopping: {}", workerId, failures, kafka.toString());
      throw kafka;
    }
    LOG.warn("worker {}: transaction failed ({}), aborted; retrying from the committed offsets", workerId,
        kafka.toString());
    rewind(records);
    sleep(Math.min(5_000, 100L << failures));
  }

  private void finishQuietly() {
    if (inFlight != null) {
      try {
        inFlight.done().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        LOG.warn("worker {}: last batch failed while stopping: {}", workerId, e.getCause().toString());
      }
      inFlight = null;
    }
  }

  private void applyBackpressure() {
    if (!paused && buffer.size() >= bufferRecords) {
      consumer.pause(consumer.assignment());
      paused = true;
      metrics.paused(true);
    } else if (paused && buffer.size() <= bufferRecords / 2) {
      consumer.resume(consumer.paused());
      paused = false;
      metrics.paused(false);
    }
  }

  /** Runs on the inference thread: one batch, one transaction. */
  private void processAndCommit(List<ConsumerRecord<String, byte[]>> records) {
    try {
      if (!producerReady) {
        initProducer();
      }
      commit(records, process(records));
    } catch (RuntimeException e) {
      if (!isFatal(e)) {
        abortOrReplaceProducer(); // a fenced producer cannot abort; the worker stops instead
      }
      throw e;
    }
  }

  /**
   * Ends a failed transaction. Where abort is refused (a commit that timed out must be retried,
   * not aborted, and its outcome is unknown), the producer is replaced: the new one, under the same
   * transactional id, fences the old and waits in initTransactions until the coordinator has
   * completed or aborted the open transaction, so that the committed offsets the polling thread
   * seeks back to are settled.
   */
  private void abortOrReplaceProducer() {
    if (!inTransaction) {
      return;
    }
    try {
      producer.abortTransaction();
      inTransaction = false;
      return;
    } catch (RuntimeException e) {
      if (isFatal(e)) {
        throw e; // fenced: a new producer would fence the worker that now owns this id
      }
      LOG.warn("worker {}: abort failed ({}); replacing the producer", workerId, e.toString());
    }
    producer.close(Duration.ZERO);
    producer = newProducer();
    producerReady = false;
    inTransaction = false;
    initProducer();
  }

  /**
   * initTransactions, tried again while it times out (the cluster unreachable): it returns once
   * any transaction an earlier producer under this id left open is settled.
   */
  private void initProducer() {
    for (int attempt = 1; ; attempt++) {
      try {
        producer.initTransactions();
        producerReady = true;
        return;
      } catch (TimeoutException e) {
        if (attempt > config.getInt(WorkerConfig.TX_RETRIES_CONFIG) || !running) {
          throw e;
        }
        LOG.warn("worker {}: initTransactions timed out (attempt {}); trying again", workerId, attempt);
        sleep(Math.min(5_000, 100L << attempt));
      }
    }
  }

  private record Batch(List<ExtractionResult> results, List<ProducerRecord<String, byte[]>> deadLetters) {}

  private Batch process(List<ConsumerRecord<String, byte[]>> records) {
    RequestDecoder.Decoded decoded = decoder.decode(records);
    return new Batch(engine.process(decoded.requests()), decoded.deadLetters());
  }

  private void commit(List<ConsumerRecord<String, byte[]>> records, Batch batch) {
    String topic = config.getString(WorkerConfig.RESULTS_TOPIC_CONFIG);
    producer.beginTransaction();
    inTransaction = true;
    for (ExtractionResult r : batch.results()) {
      producer.send(new ProducerRecord<>(topic, r.getJobId(), resultSerde.serialize(topic, r)));
    }
    batch.deadLetters().forEach(producer::send);
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) { // offset order within each partition
      offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }
    producer.sendOffsetsToTransaction(offsets, groupMetadata);
    producer.commitTransaction();
    inTransaction = false;
    committedResults.addAndGet(batch.results().size());
    Instant now = Instant.now();
    batch.results().forEach(r -> metrics.result(r, now));
  }

  /**
   * Seeks each partition of a failed batch that this worker still owns back to its committed
   * offset (the batch start if the transaction aborted; past the batch if its commit went through
   * before the error was seen) and drops what was buffered for it. If the committed offsets cannot
   * be read, the worker stops rather than guess: a restarted worker starts from them.
   */
  private void rewind(List<ConsumerRecord<String, byte[]>> records) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      first.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
    }
    buffer.drop(first.keySet());
    Set<TopicPartition> owned = new HashSet<>(first.keySet());
    owned.retainAll(consumer.assignment());
    if (owned.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(owned);
    for (TopicPartition tp : owned) {
      OffsetAndMetadata c = committed.get(tp);
      consumer.seek(tp, c == null ? first.get(tp) : c.offset());
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
    inference.shutdownNow();
    // A clean stop leaves the group (a static member would otherwise keep its partitions until its
    // session expires); after a crash, a restart under the same id takes its place at once.
    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5))
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    producer.close(Duration.ofSeconds(5));
    engine.close();
    extractor.close();
    metrics.close();
  }
}
