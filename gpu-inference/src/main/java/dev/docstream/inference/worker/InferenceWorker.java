package dev.docstream.inference.worker;

import dev.docstream.adapters.registry.DirectoryBlobStore;
import dev.docstream.adapters.registry.ManifestView;
import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.adapter.RegistryAdapterStore;
import dev.docstream.inference.engine.DecodedImages;
import dev.docstream.inference.engine.EngineOptions;
import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.worker.internal.FailurePolicy;
import dev.docstream.inference.worker.internal.PollLoop;
import dev.docstream.inference.worker.internal.PollSettings;
import dev.docstream.inference.worker.internal.RequestDecoder;
import dev.docstream.inference.worker.internal.TransactionalSink;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GPU worker: a member of one consumer group on {@code extraction.requests}, on three threads.
 * The polling thread (the one that calls {@link #run()}) runs the {@link PollLoop}: it owns the
 * consumer, the per-adapter queues, backpressure, rebalances and rewinds. The decode thread readies
 * each batch (its requests with {@link RequestDecoder}, its images) while the inference thread runs
 * the one before through the {@link ExtractionEngine} and commits its results, dead letters and
 * consumed offsets (the lowest not done, the done ones beyond it in the metadata) in one Kafka
 * transaction through the {@link TransactionalSink}, which owns the producer. A crash at any moment
 * loses no job and, for a read_committed reader, publishes no result twice. A fenced producer stops
 * the worker; other Kafka errors are retried from the committed offsets.
 */
public final class InferenceWorker implements Runnable, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceWorker.class);

  private final String workerId;
  private final WorkerMetrics metrics;
  private final ExtractionEngine engine;
  private final BatchWork work;
  private final Consumer<String, byte[]> consumer;
  private final TransactionalSink sink;
  private final ExecutorService inference;
  private final ExecutorService decode;
  private final PollLoop loop;
  private final List<AutoCloseable> resources;
  private final AtomicLong committedResults = new AtomicLong();
  private volatile RuntimeException failure;

  /**
   * The document type whose adapter the engine left merged, or null; set by the inference thread.
   */
  private volatile String mergedType;

  /**
   * A worker on any clients and any batch work (unit tests use Kafka's mock clients and a stand-in
   * for the model); {@link #create} builds the real one.
   *
   * @param engine the engine behind {@code work}, for its counters, or null
   * @param resources closed with the worker, after the clients (the model, the engine)
   */
  public InferenceWorker(
      WorkerConfig config,
      KafkaClients clients,
      BatchWork work,
      ExtractionEngine engine,
      WorkerMetrics metrics,
      List<AutoCloseable> resources) {
    config.validate();
    this.workerId = config.workerId();
    this.metrics = metrics;
    this.engine = engine;
    this.work = work;
    this.resources = List.copyOf(resources);
    SchemaRegistry registry =
        SchemaRegistries.forUrl(
            config.getString(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG), config.schemaRegistryAuth());
    this.consumer = clients.consumer(config.consumerConfig());
    this.sink =
        new TransactionalSink(
            () -> clients.producer(config.producerConfig()),
            Topics.EXTRACTION_RESULTS.valueSerde(registry),
            config.getString(WorkerConfig.RESULTS_TOPIC_CONFIG),
            workerId,
            config.getInt(WorkerConfig.TX_RETRIES_CONFIG));
    this.inference =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "docstream-inference-" + workerId));
    PollSettings settings =
        new PollSettings(
            workerId,
            config.getString(WorkerConfig.INPUT_TOPIC_CONFIG),
            Duration.ofMillis(config.getLong(WorkerConfig.POLL_TIMEOUT_MS_CONFIG)),
            config.getInt(WorkerConfig.POLL_RECORDS_CONFIG),
            config.getInt(WorkerConfig.BUFFER_RECORDS_CONFIG),
            config.getInt(WorkerConfig.TX_RETRIES_CONFIG),
            config.getString(WorkerConfig.REPLAY_TOPIC_CONFIG).isEmpty()
                ? null
                : config.getString(WorkerConfig.REPLAY_TOPIC_CONFIG),
            config.getInt(WorkerConfig.REPLAY_BATCH_RECORDS_CONFIG),
            config.getDouble(WorkerConfig.REPLAY_SHARE_CONFIG),
            config.getInt(WorkerConfig.BATCH_SIZE_CONFIG),
            SchedulingKeys.maxBatchDelay(config));
    this.decode =
        Executors.newSingleThreadExecutor(r -> new Thread(r, "docstream-decode-" + workerId));
    this.loop =
        new PollLoop(
            settings, consumer, inference, decode, this::prepare, metrics, () -> mergedType);
  }

  /** Loads the base model and adapters named by the config and connects to Kafka. */
  public static InferenceWorker create(WorkerConfig config) throws IOException {
    return create(config, KafkaClients.REAL);
  }

  /**
   * The real worker (model, adapters, engine) on the given clients: tests drive it through Kafka's
   * mock clients to know exactly what each poll returns.
   */
  public static InferenceWorker create(WorkerConfig config, KafkaClients clients)
      throws IOException {
    config.validate();
    Extractor extractor = Extractor.load(config.baseModelDir());
    SchedulingKeys.applyModelThreads(config); // after the engine started: it sets its default
    String sha = ModelCheckpoint.checksum(config.baseModelDir());
    WorkerMetrics metrics = new WorkerMetrics(config.workerId());
    EngineOptions options =
        AdapterModeKeys.apply(
                config,
                EngineOptions.defaults(
                    "docstream-extractor@" + sha.substring(0, 12), config.workerId()))
            .withCacheBytes(config.getLong(WorkerConfig.CACHE_BYTES_CONFIG))
            .withMicroBatch(config.getInt(WorkerConfig.BATCH_SIZE_CONFIG))
            .withPolicy(config.missingAdapterPolicy())
            .withMaxImagePixels(config.getLong(WorkerConfig.IMAGE_MAX_PIXELS_CONFIG));
    SchemaRegistry registry =
        SchemaRegistries.forUrl(
            config.getString(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG), config.schemaRegistryAuth());
    List<AutoCloseable> resources = new ArrayList<>();
    AdapterStore store;
    AdapterMetrics adapterMetrics =
        new AdapterMetrics(
            metrics.registry(),
            config.getList(WorkerConfig.METRICS_ADAPTER_TYPES_CONFIG),
            config.getInt(WorkerConfig.METRICS_ADAPTER_TOP_K_CONFIG));
    if (config.adaptersFromRegistry()) {
      ManifestView view;
      try {
        view =
            ManifestView.start(
                config.manifestReaderConfig(),
                config.getString(WorkerConfig.MANIFESTS_TOPIC_CONFIG),
                Topics.ADAPTERS_MANIFESTS.valueSerde(registry),
                Duration.ofSeconds(30));
      } catch (RegistryException e) {
        extractor.close();
        throw new IOException(e.getMessage(), e);
      }
      RegistryAdapterStore registryStore =
          new RegistryAdapterStore(
              view,
              new DirectoryBlobStore(Path.of(config.getString(WorkerConfig.BLOB_DIR_CONFIG))),
              sha,
              extractor.block().moduleShapes(),
              adapterMetrics);
      resources.add(registryStore);
      resources.add(view);
      store = registryStore;
    } else {
      store = new DirectoryAdapterStore(config.adapterDir(), sha, extractor.block().moduleShapes());
    }
    ExtractionEngine engine =
        new ExtractionEngine(extractor, store, options, metrics, Clock.systemUTC());
    adapterMetrics.watch(engine);
    RequestDecoder decoder =
        new RequestDecoder(
            Topics.EXTRACTION_REQUESTS.valueSerde(registry),
            Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry),
            config.getString(WorkerConfig.DLQ_TOPIC_CONFIG),
            config.getInt(WorkerConfig.RECORD_MAX_BYTES_CONFIG),
            Clock.systemUTC());
    BatchWork work =
        new BatchWork() {
          @Override
          public Outcome process(List<ConsumerRecord<String, byte[]>> records) {
            return prepare(records).run();
          }

          /** On the decode thread: the requests' Avro, then their images. */
          @Override
          public Prepared prepare(List<ConsumerRecord<String, byte[]>> records) {
            long t0 = System.nanoTime();
            RequestDecoder.Decoded decoded = decoder.decode(records);
            metrics.stage(
                ExtractionEngine.Stage.REQUEST_DECODE, records.size(), System.nanoTime() - t0);
            DecodedImages images = engine.decodeAhead(decoded.requests());
            return () ->
                new Outcome(engine.process(decoded.requests(), images), decoded.deadLetters());
          }
        };
    resources.add(0, engine);
    resources.add(extractor);
    resources.add(metrics);
    return new InferenceWorker(config, clients, work, engine, metrics, resources);
  }

  /** On the decode thread: readies a batch; the rest runs on the inference thread. */
  private PollLoop.Commit prepare(List<ConsumerRecord<String, byte[]>> records) {
    BatchWork.Prepared prepared = work.prepare(records);
    return (group, offsets) -> processAndCommit(records, prepared, group, offsets);
  }

  /** Runs on the inference thread: one batch, one transaction. */
  private void processAndCommit(
      List<ConsumerRecord<String, byte[]>> records,
      BatchWork.Prepared prepared,
      Supplier<ConsumerGroupMetadata> group,
      Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets) {
    BatchWork.Outcome outcome = prepared.run();
    if (engine != null) {
      String id = engine.mergedAdapter(); // T@v: the scheduler runs type T's queue first
      mergedType = id == null ? null : id.substring(0, id.lastIndexOf('@'));
    }
    long t0 = System.nanoTime();
    sink.commit(outcome.results(), outcome.deadLetters(), offsets.get(), group);
    metrics.stage(ExtractionEngine.Stage.COMMIT, records.size(), System.nanoTime() - t0);
    committedResults.addAndGet(outcome.results().size());
    Instant now = Instant.now();
    for (ExtractionResult r : outcome.results()) {
      metrics.result(r, now);
    }
  }

  /** The worker's metrics. */
  public WorkerMetrics metrics() {
    return metrics;
  }

  /** The engine, for its counters (null for a worker built on other batch work). */
  public ExtractionEngine engine() {
    return engine;
  }

  /** Partitions this worker owns now (0 until it has joined the group). */
  public int assignedPartitions() {
    return metrics.assignedPartitions();
  }

  /** The error that stopped {@link #run()}, or null while it runs or after a clean stop. */
  public RuntimeException failure() {
    return failure;
  }

  /** Results committed so far. */
  public long committedResults() {
    return committedResults.get();
  }

  /** Whether an error means the worker must stop rather than retry; see {@link FailurePolicy}. */
  public static boolean isFatal(Throwable e) {
    return FailurePolicy.isFatal(e);
  }

  @Override
  public void run() {
    try {
      inference.submit(sink::init).get(); // the producer belongs to the inference thread
      LOG.info("worker {} started", workerId);
      loop.run();
    } catch (ExecutionException e) {
      failure =
          e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      LOG.error("worker {} could not start its producer: {}", workerId, e.getCause().toString());
      throw failure;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      failure = e;
      LOG.error("worker {} stopped on an error", workerId, e);
      throw e;
    } finally {
      decode.shutdown();
      inference.shutdown();
      LOG.info("worker {} stopped after {} results", workerId, committedResults.get());
    }
  }

  /** Asks the loop to stop; safe from any thread. */
  public void stop() {
    sink.stop();
    loop.stop();
  }

  /** Closes the Kafka clients and the resources; call after {@link #run()} returned. */
  @Override
  public void close() {
    decode.shutdownNow();
    inference.shutdownNow();
    // A clean stop leaves the group (a static member would otherwise keep its partitions until its
    // session expires); after a crash, a restart under the same id takes its place at once.
    consumer.close(
        CloseOptions.timeout(Duration.ofSeconds(5))
            .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    sink.close();
    for (AutoCloseable r : resources) {
      try {
        r.close();
      } catch (
          Exception
              e) { // AutoCloseable declares Exception; one failing close must not skip the rest
        LOG.warn(
            "worker {}: closing {} failed: {}",
            workerId,
            r.getClass().getSimpleName(),
            e.toString());
      }
    }
  }
}
