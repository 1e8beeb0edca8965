package dev.docstream.app;

import dev.docstream.adapters.registry.AdapterRegistry;
import dev.docstream.adapters.registry.DirectoryBlobStore;
import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.adapters.registry.RegistryHttpApi;
import dev.docstream.app.qc.Analysts;
import dev.docstream.app.qc.ReviewConfig;
import dev.docstream.app.qc.ReviewService;
import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.embedded.KafkaSchemaJournal;
import dev.docstream.inference.worker.InferenceWorker;
import dev.docstream.inference.worker.WorkerConfig;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.topology.intake.IntakeApp;
import dev.docstream.topology.intake.IntakeConfig;
import dev.docstream.topology.qc.QcRouterConfig;
import dev.docstream.topology.qc.QcRouterTopology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The whole pipeline in one process: a real Kafka broker (child JVM), the schema registry (in
 * memory, journaled to the cluster's {@code _schemas} topic so its ids survive restarts), the
 * intake topology and inference workers, all on the shipped model and adapters.
 *
 * <p>Restarts on the same data folder are quick: intake and the workers are static group members (a
 * restarted one takes its predecessor's place at once, also after a crash), and a clean close
 * leaves the groups.
 */
public final class EmbeddedStack implements AutoCloseable {
  /**
   * @param dataDir where the broker and Kafka Streams keep their data
   * @param fresh wipe {@code dataDir} first
   * @param workers inference workers to run
   * @param requestPartitions partitions of extraction.requests (the unit of adapter locality)
   * @param kafkaPort the broker's port; 0 = any free one
   * @param workerConfig more worker config keys (for example the bench's model threads)
   */
  public record Options(
      Path dataDir,
      boolean fresh,
      int workers,
      int requestPartitions,
      Path baseModel,
      Path adapters,
      String registryScope,
      int batchSize,
      int kafkaPort,
      Map<String, String> workerConfig) {
    /** Without worker config beyond the defaults. */
    public Options(
        Path dataDir,
        boolean fresh,
        int workers,
        int requestPartitions,
        Path baseModel,
        Path adapters,
        String registryScope,
        int batchSize,
        int kafkaPort) {
      this(
          dataDir,
          fresh,
          workers,
          requestPartitions,
          baseModel,
          adapters,
          registryScope,
          batchSize,
          kafkaPort,
          Map.of());
    }
  }

  private final Options options;
  private final EmbeddedKafkaBroker broker;
  private final KafkaStreams intake;
  private final List<InferenceWorker> workers = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Set<String> documentTypes;
  private final KafkaSchemaJournal journal;
  private final InMemorySchemaRegistry registry;
  private long readyMillis;
  private RegistryCatalog catalog;
  private DirectoryBlobStore blobs;
  private List<String> published = List.of();
  private RegistryHttpApi adaptersApi;
  private KafkaStreams qcRouter;
  private ReviewService review;

  private EmbeddedStack(
      Options options,
      EmbeddedKafkaBroker broker,
      KafkaSchemaJournal journal,
      InMemorySchemaRegistry registry,
      KafkaStreams intake,
      Set<String> types) {
    this.options = options;
    this.broker = broker;
    this.journal = journal;
    this.registry = registry;
    this.intake = intake;
    this.documentTypes = types;
  }

  /** Starts everything; returns when the workers are polling. */
  public static EmbeddedStack start(Options o) throws IOException {
    long t0 = System.nanoTime();
    if (o.fresh()) {
      deleteRecursively(o.dataDir());
    }
    Files.createDirectories(o.dataDir());
    EmbeddedKafkaBroker broker =
        EmbeddedKafkaBroker.persistent(o.dataDir().resolve("kafka"), o.kafkaPort()).start();
    Map<String, Integer> topics = new HashMap<>();
    topics.put(Topics.VERIFICATION_JOBS.name(), 4);
    topics.put(Topics.VERIFICATION_JOBS_REPLAY.name(), 4);
    topics.put(Topics.VERIFICATION_JOBS_DLQ.name(), 1);
    topics.put(Topics.EXTRACTION_REQUESTS.name(), o.requestPartitions());
    topics.put(Topics.EXTRACTION_REQUESTS_REPLAY.name(), o.requestPartitions());
    topics.put(Topics.EXTRACTION_RESULTS.name(), 4);
    topics.put(Topics.QC_REVIEW.name(), 1);
    topics.put(Topics.QC_VERDICTS.name(), 1);
    topics.put(Topics.QC_LEASES.name(), 1);
    topics.put(Topics.ADAPTERS_MANIFESTS.name(), 1);
    topics.put(KafkaSchemaJournal.TOPIC, 1);
    EmbeddedKafkaBroker.createTopics(
        broker.bootstrapServers(),
        topics,
        Map.of(
            KafkaSchemaJournal.TOPIC,
            Map.of("cleanup.policy", "compact"),
            Topics.ADAPTERS_MANIFESTS.name(),
            Map.of("cleanup.policy", "compact"),
            Topics.QC_LEASES.name(),
            Map.of("cleanup.policy", "compact")));
    KafkaSchemaJournal journal =
        KafkaSchemaJournal.open(broker.bootstrapServers(), KafkaSchemaJournal.TOPIC);
    InMemorySchemaRegistry registry = InMemorySchemaRegistry.persistent(journal);
    InMemorySchemaRegistry.install(o.registryScope(), registry);

    // Every path goes through the adapters registry: the shipped adapters are published and
    // promoted at the first start (a restart finds them there and publishes nothing).
    Path blobs = o.dataDir().resolve("adapter-blobs");
    List<String> published;
    try (AdapterRegistry adapters =
        AdapterRegistry.open(
            Map.of("bootstrap.servers", broker.bootstrapServers()),
            Topics.ADAPTERS_MANIFESTS.name(),
            Topics.ADAPTERS_MANIFESTS.valueSerde(registry),
            new DirectoryBlobStore(blobs),
            Clock.systemUTC())) {
      published = ShippedAdapters.publishMissing(adapters, o.baseModel(), o.adapters());
    } catch (RegistryException e) {
      throw new IOException(e.getMessage(), e);
    }
    Map<String, Object> intakeProps = new HashMap<>();
    intakeProps.put(IntakeConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    intakeProps.put(IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + o.registryScope());
    intakeProps.put(IntakeConfig.STATE_DIR_CONFIG, o.dataDir().resolve("streams").toString());
    intakeProps.put(IntakeConfig.INSTANCE_ID_CONFIG, "embedded-intake");
    intakeProps.put(IntakeConfig.IMAGES_DIR_CONFIG, o.dataDir().resolve("images").toString());
    IntakeConfig intakeConfig = new IntakeConfig(intakeProps);
    RegistryCatalog catalog;
    try {
      catalog = RegistryCatalog.follow(intakeConfig);
    } catch (RegistryException e) {
      throw new IOException(e.getMessage(), e);
    }
    KafkaStreams intake = IntakeApp.start(intakeConfig, catalog, (now, before) -> {});
    EmbeddedStack stack = new EmbeddedStack(o, broker, journal, registry, intake, catalog.served());
    stack.catalog = catalog;
    stack.blobs = new DirectoryBlobStore(blobs);
    stack.published = published;
    for (int i = 0; i < o.workers(); i++) {
      Map<String, Object> w = new HashMap<>();
      w.put(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
      w.put(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + o.registryScope());
      w.put(WorkerConfig.WORKER_ID_CONFIG, "embedded-" + i);
      w.put(WorkerConfig.BASE_MODEL_DIR_CONFIG, o.baseModel().toString());
      w.put(WorkerConfig.BLOB_DIR_CONFIG, blobs.toString());
      w.put(WorkerConfig.BATCH_SIZE_CONFIG, String.valueOf(o.batchSize()));
      w.putAll(o.workerConfig());
      InferenceWorker worker = InferenceWorker.create(new WorkerConfig(w));
      Thread t = new Thread(worker, "worker-" + i);
      t.start();
      stack.workers.add(worker);
      stack.threads.add(t);
    }
    stack.awaitReady(java.time.Duration.ofSeconds(60));
    stack.readyMillis = (System.nanoTime() - t0) / 1_000_000;
    return stack;
  }

  /** The broker's process id (a child JVM), for CPU accounting. */
  public long brokerPid() {
    return broker.pid();
  }

  /** How long {@link #start} took until every component was ready, in milliseconds. */
  public long readyMillis() {
    return readyMillis;
  }

  /**
   * Waits until intake is running and every worker owns partitions, so that no job waits on
   * start-up.
   */
  private void awaitReady(java.time.Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      // Every worker must own partitions: one that joins later triggers a rebalance mid-batch
      // (handled, by abort and retry, but not at start-up). More workers than partitions: all
      // partitions owned is the most there is.
      boolean workersReady =
          workers.size() > options.requestPartitions()
              ? workers.stream().mapToInt(InferenceWorker::assignedPartitions).sum()
                  >= options.requestPartitions()
              : workers.stream().allMatch(w -> w.assignedPartitions() > 0);
      if (intake.state() == KafkaStreams.State.RUNNING && workersReady) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new IllegalStateException(
        "the embedded stack did not become ready within "
            + timeout
            + " (intake "
            + intake.state()
            + ", worker partitions "
            + workers.stream().map(w -> String.valueOf(w.assignedPartitions())).toList()
            + ")");
  }

  /** Kafka bootstrap servers. */
  public String bootstrapServers() {
    return broker.bootstrapServers();
  }

  /** The schema registry URL in-process clients use. */
  public String registryUrl() {
    return "mock://" + options.registryScope();
  }

  /** The registry (journaled to the cluster). */
  public InMemorySchemaRegistry registry() {
    return registry;
  }

  /** Document types served at start (a promoted adapter in the registry). */
  public Set<String> documentTypes() {
    return documentTypes;
  }

  /** Adapter ids this start published (the shipped ones, at the first start only). */
  public List<String> published() {
    return published;
  }

  /** The adapters registry's blob store. */
  public DirectoryBlobStore blobStore() {
    return blobs;
  }

  /** Serves the registry's read-only HTTP API on {@code port} (0 = any); returns the port. */
  public int serveAdaptersApi(int port) throws IOException {
    adaptersApi = RegistryHttpApi.serve(catalog.view(), blobs, "localhost", port);
    return adaptersApi.port();
  }

  /**
   * Starts QC: the router (results -> review tasks) and the review service, with the analysts who
   * may sign in.
   *
   * @param routerSettings QC router keys (shares, thresholds) over the defaults
   * @param reviewPort the review page's port; 0 any
   * @param analysts name -> password
   */
  public ReviewService startQc(
      Map<String, String> routerSettings, int reviewPort, Map<String, String> analysts)
      throws IOException {
    Map<String, Object> router = new HashMap<>(routerSettings);
    router.put(QcRouterConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    router.put(QcRouterConfig.SCHEMA_REGISTRY_URL_CONFIG, registryUrl());
    router.put(QcRouterConfig.STATE_DIR_CONFIG, options.dataDir().resolve("qc-router").toString());
    router.put(QcRouterConfig.INSTANCE_ID_CONFIG, "embedded-qc-router");
    qcRouter = QcRouterTopology.start(new QcRouterConfig(router));
    Map<String, Object> r = new HashMap<>();
    r.put(ReviewConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    r.put(ReviewConfig.SCHEMA_REGISTRY_URL_CONFIG, registryUrl());
    r.put(ReviewConfig.PORT_CONFIG, reviewPort);
    r.put(ReviewConfig.IMAGES_DIR_CONFIG, options.dataDir().resolve("images").toString());
    if (routerSettings.containsKey(QcRouterConfig.LOW_CONFIDENCE_THRESHOLD_CONFIG)) {
      r.put(
          ReviewConfig.LOW_CONFIDENCE_CONFIG,
          routerSettings.get(QcRouterConfig.LOW_CONFIDENCE_THRESHOLD_CONFIG));
    }
    review =
        ReviewService.start(
            new ReviewConfig(r),
            Analysts.of(
                analysts.entrySet().stream()
                    .map(e -> e.getKey() + ":" + Analysts.hash(e.getValue()))
                    .toList()),
            Clock.systemUTC());
    return review;
  }

  /** The running workers. */
  public List<InferenceWorker> workers() {
    return workers;
  }

  @Override
  public void close() {
    if (review != null) {
      review.close();
    }
    if (qcRouter != null) {
      IntakeApp.stop(qcRouter, java.time.Duration.ofSeconds(10));
    }
    workers.forEach(InferenceWorker::stop);
    for (Thread t : threads) {
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    workers.forEach(InferenceWorker::close);
    IntakeApp.stop(intake, java.time.Duration.ofSeconds(20));
    if (adaptersApi != null) {
      adaptersApi.close();
    }
    catalog.close();
    journal.close();
    InMemorySchemaRegistry.dropScope(options.registryScope());
    broker.close();
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
