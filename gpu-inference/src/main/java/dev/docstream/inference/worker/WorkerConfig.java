package dev.docstream.inference.worker;

import dev.docstream.inference.engine.EngineOptions;
import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.schemas.Topics;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The inference worker's configuration, declared once Kafka-style: every key has a type, a default,
 * a validator and a one-line doc, and {@link #validate()} fails naming the key.
 *
 * <p>Keys prefixed {@code consumer.} or {@code producer.} go, without the prefix, to the Kafka
 * clients (for example {@code producer.max.block.ms}); the settings exactly-once depends on
 * (transactions, idempotence, read_committed, manual commits) cannot be overridden.
 */
public final class WorkerConfig extends AbstractConfig {
  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  public static final String SCHEMA_REGISTRY_AUTH_CONFIG = "schema.registry.basic.auth.user.info";
  public static final String GROUP_ID_CONFIG = "group.id";
  public static final String WORKER_ID_CONFIG = "worker.id";
  public static final String BASE_MODEL_DIR_CONFIG = "worker.base.model.dir";
  public static final String ADAPTER_DIR_CONFIG = "worker.adapter.dir";
  public static final String ADAPTER_SOURCE_CONFIG = "worker.adapter.source";
  public static final String REPLAY_TOPIC_CONFIG = "worker.replay.topic";
  public static final String REPLAY_BATCH_RECORDS_CONFIG = "worker.replay.batch.max.records";
  public static final String REPLAY_SHARE_CONFIG = "worker.replay.max.share";
  public static final String BLOB_DIR_CONFIG = "adapters.blob.dir";
  public static final String MANIFESTS_TOPIC_CONFIG = "adapters.manifests.topic";
  public static final String METRICS_ADAPTER_TYPES_CONFIG = "worker.metrics.adapter.types";
  public static final String METRICS_ADAPTER_TOP_K_CONFIG = "worker.metrics.adapter.top.k";
  public static final String BATCH_SIZE_CONFIG = "inference.batch.max.size";
  public static final String POLL_RECORDS_CONFIG = "worker.poll.max.records";
  public static final String BUFFER_RECORDS_CONFIG = "worker.buffer.max.records";
  public static final String POLL_TIMEOUT_MS_CONFIG = "worker.poll.timeout.ms";
  public static final String MAX_POLL_INTERVAL_MS_CONFIG = "worker.max.poll.interval.ms";
  public static final String CACHE_BYTES_CONFIG = "adapter.cache.max.bytes";
  public static final String MISSING_ADAPTER_CONFIG = "adapter.missing.policy";
  public static final String TX_RETRIES_CONFIG = "worker.transaction.retries";
  public static final String METRICS_PORT_CONFIG = "worker.metrics.port";
  public static final String SESSION_TIMEOUT_MS_CONFIG = "worker.session.timeout.ms";
  public static final String INPUT_TOPIC_CONFIG = "worker.input.topic";
  public static final String RESULTS_TOPIC_CONFIG = "worker.results.topic";
  public static final String DLQ_TOPIC_CONFIG = "worker.dlq.topic";
  public static final String IMAGE_MAX_PIXELS_CONFIG = "worker.image.max.pixels";
  public static final String RECORD_MAX_BYTES_CONFIG = "worker.record.max.bytes";
  public static final String CONSUMER_PREFIX = "consumer.";
  public static final String PRODUCER_PREFIX = "producer.";

  private static final ConfigDef DEF =
      SchedulingKeys.define(AdapterModeKeys.define(new ConfigDef()))
          .define(
              BOOTSTRAP_SERVERS_CONFIG,
              Type.STRING,
              "localhost:9092",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Kafka bootstrap servers, host:port[,host:port].")
          .define(
              SCHEMA_REGISTRY_URL_CONFIG,
              Type.STRING,
              "mock://docstream",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Schema registry: http(s)://host:port, or mock://<scope> for the in-memory one.")
          .define(
              SCHEMA_REGISTRY_AUTH_CONFIG,
              Type.PASSWORD,
              null,
              Importance.LOW,
              "Basic-auth user:password for the schema registry, if it needs one.")
          .define(
              GROUP_ID_CONFIG,
              Type.STRING,
              "docstream-workers",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Consumer group all workers share.")
          .define(
              WORKER_ID_CONFIG,
              Type.STRING,
              "",
              Importance.HIGH,
              "Stable id: transactional id and static group member; a restart takes its place at once. Empty: host-pid.")
          .define(
              BASE_MODEL_DIR_CONFIG,
              Type.STRING,
              "models/base",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Folder of the base model checkpoint (model.json + model.safetensors).")
          .define(
              ADAPTER_DIR_CONFIG,
              Type.STRING,
              "models/adapters",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "With worker.adapter.source=directory: the folder with one PEFT adapter folder per document type.")
          .define(
              ADAPTER_SOURCE_CONFIG,
              Type.STRING,
              "registry",
              ConfigDef.ValidString.in("registry", "directory"),
              Importance.HIGH,
              "registry: follow adapters.manifests (versions, canaries, promotions without a restart); directory: the fixed folders of worker.adapter.dir.")
          .define(
              REPLAY_TOPIC_CONFIG,
              Type.STRING,
              Topics.EXTRACTION_REQUESTS_REPLAY.name(),
              Importance.MEDIUM,
              "The replay lane, fetched only while the live lane (worker.input.topic) has no backlog; empty: no replay lane.")
          .define(
              REPLAY_BATCH_RECORDS_CONFIG,
              Type.INT,
              16,
              ConfigDef.Range.between(1, 10000),
              Importance.MEDIUM,
              "The largest replay batch: a live job that arrives meanwhile waits at most one of them.")
          .define(
              REPLAY_SHARE_CONFIG,
              Type.DOUBLE,
              0.8,
              ConfigDef.Range.between(0.01, 1.0),
              Importance.MEDIUM,
              "The most of the inference thread's time replay batches may take, even when the live lane is idle (headroom for live bursts).")
          .define(
              BLOB_DIR_CONFIG,
              Type.STRING,
              "var/up/adapter-blobs",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "The adapters registry's blob store: a folder of PEFT folders by content hash, shared with docstream adapters publish (the default is where docstream up keeps it).")
          .define(
              MANIFESTS_TOPIC_CONFIG,
              Type.STRING,
              "adapters.manifests",
              new ConfigDef.NonEmptyString(),
              Importance.LOW,
              "The registry's compacted manifests topic.")
          .define(
              METRICS_ADAPTER_TYPES_CONFIG,
              Type.LIST,
              "",
              Importance.LOW,
              "Document types whose adapters get their own metric tags; empty: the first worker.metrics.adapter.top.k types served.")
          .define(
              METRICS_ADAPTER_TOP_K_CONFIG,
              Type.INT,
              16,
              ConfigDef.Range.between(0, 1000),
              Importance.LOW,
              "How many document types get their own adapter metric tags when none are configured; the rest are tagged 'other'.")
          .define(
              BATCH_SIZE_CONFIG,
              Type.INT,
              32,
              ConfigDef.Range.between(1, 1024),
              Importance.MEDIUM,
              "Images per forward pass (micro-batch).")
          .define(
              POLL_RECORDS_CONFIG,
              Type.INT,
              256,
              ConfigDef.Range.between(1, 10_000),
              Importance.MEDIUM,
              "Records per Kafka poll and per batch of work: one batch is one transaction.")
          .define(
              BUFFER_RECORDS_CONFIG,
              Type.INT,
              1024,
              ConfigDef.Range.between(1, 1_000_000),
              Importance.MEDIUM,
              "Polled records held ahead of inference; at this many the worker pauses its partitions, resuming at half.")
          .define(
              POLL_TIMEOUT_MS_CONFIG,
              Type.LONG,
              100L,
              ConfigDef.Range.atLeast(1),
              Importance.LOW,
              "How long a poll waits for records.")
          .define(
              MAX_POLL_INTERVAL_MS_CONFIG,
              Type.INT,
              300_000,
              ConfigDef.Range.atLeast(10_000),
              Importance.MEDIUM,
              "Kafka max.poll.interval.ms: must exceed the slowest batch (a rebalance waits for the batch in flight).")
          .define(
              CACHE_BYTES_CONFIG,
              Type.LONG,
              256L * 1024 * 1024,
              ConfigDef.Range.atLeast(1),
              Importance.MEDIUM,
              "Byte budget of adapters kept in memory (least recently used evicted).")
          .define(
              MISSING_ADAPTER_CONFIG,
              Type.STRING,
              "REJECT",
              ConfigDef.ValidString.in("REJECT", "BASE_MODEL"),
              Importance.MEDIUM,
              "A document type without adapter: REJECT (reason NO_ADAPTER) or BASE_MODEL (flagged).")
          .define(
              TX_RETRIES_CONFIG,
              Type.INT,
              5,
              ConfigDef.Range.atLeast(0),
              Importance.LOW,
              "Times a failed transaction is aborted and retried before the worker stops.")
          .define(
              SESSION_TIMEOUT_MS_CONFIG,
              Type.INT,
              10_000,
              ConfigDef.Range.between(6_000, 300_000),
              Importance.LOW,
              "Kafka session.timeout.ms: how long a silent worker keeps its partitions before they move.")
          .define(
              METRICS_PORT_CONFIG,
              Type.INT,
              -1,
              ConfigDef.Range.between(-1, 65535),
              Importance.LOW,
              "Port of the Prometheus scrape endpoint /metrics; -1 off, 0 any free port.")
          .define(
              INPUT_TOPIC_CONFIG,
              Type.STRING,
              Topics.EXTRACTION_REQUESTS.name(),
              Importance.LOW,
              "Topic to consume.")
          .define(
              RESULTS_TOPIC_CONFIG,
              Type.STRING,
              Topics.EXTRACTION_RESULTS.name(),
              Importance.LOW,
              "Results topic.")
          .define(
              DLQ_TOPIC_CONFIG,
              Type.STRING,
              Topics.VERIFICATION_JOBS_DLQ.name(),
              Importance.LOW,
              "Dead-letter topic for requests that cannot be decoded.")
          .define(
              IMAGE_MAX_PIXELS_CONFIG,
              Type.LONG,
              EngineOptions.DEFAULT_MAX_IMAGE_PIXELS,
              ConfigDef.Range.atLeast(1),
              Importance.MEDIUM,
              "Most pixels an image may declare; more fails the job as IMAGE_TOO_LARGE before it is decoded.")
          .define(
              RECORD_MAX_BYTES_CONFIG,
              Type.INT,
              1_048_576,
              ConfigDef.Range.atLeast(64 * 1024),
              Importance.LOW,
              "Largest record the worker writes (its producer's max.request.size); a dead letter that would be "
                  + "larger goes without its original value.");

  public WorkerConfig(Map<?, ?> props) {
    super(DEF, props);
  }

  /** The declared keys, for --help. */
  public static ConfigDef definition() {
    return DEF;
  }

  /** Fails naming the key when values do not fit together. */
  public WorkerConfig validate() {
    if (getInt(POLL_RECORDS_CONFIG) < getInt(BATCH_SIZE_CONFIG)) {
      throw new ConfigException(
          POLL_RECORDS_CONFIG,
          getInt(POLL_RECORDS_CONFIG),
          "must be at least "
              + BATCH_SIZE_CONFIG
              + " ("
              + getInt(BATCH_SIZE_CONFIG)
              + ") or batches are never full");
    }
    if (getInt(BUFFER_RECORDS_CONFIG) < getInt(POLL_RECORDS_CONFIG)) {
      throw new ConfigException(
          BUFFER_RECORDS_CONFIG,
          getInt(BUFFER_RECORDS_CONFIG),
          "must be at least "
              + POLL_RECORDS_CONFIG
              + " ("
              + getInt(POLL_RECORDS_CONFIG)
              + ") or no batch is ever full");
    }
    return this;
  }

  /** Whether worker.id was set: only a stable id may be a static group member. */
  public boolean hasStableId() {
    return !getString(WORKER_ID_CONFIG).isEmpty();
  }

  public String workerId() {
    String id = getString(WORKER_ID_CONFIG);
    return id.isEmpty() ? ManagementFactory.getRuntimeMXBean().getName().replace('@', '-') : id;
  }

  public Path baseModelDir() {
    return Path.of(getString(BASE_MODEL_DIR_CONFIG));
  }

  /** Whether adapters come from the registry (else from {@link #adapterDir()}). */
  public boolean adaptersFromRegistry() {
    return "registry".equals(getString(ADAPTER_SOURCE_CONFIG));
  }

  /** Settings for a reader of the manifests topic: the cluster and any security settings. */
  public Map<String, Object> manifestReaderConfig() {
    Map<String, Object> c = new java.util.HashMap<>(consumerConfig());
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    c.remove(ConsumerConfig.MAX_POLL_RECORDS_CONFIG);
    c.remove(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId() + "-manifests");
    return c;
  }

  public Path adapterDir() {
    return Path.of(getString(ADAPTER_DIR_CONFIG));
  }

  public ExtractionEngine.MissingAdapterPolicy missingAdapterPolicy() {
    return ExtractionEngine.MissingAdapterPolicy.valueOf(getString(MISSING_ADAPTER_CONFIG));
  }

  /**
   * The consumer's configuration: the {@code consumer.*} overrides, then what exactly-once needs
   * (read_committed, manual commits, cooperative rebalancing), which no override can change. A
   * worker with a stable id is a static member: a restarted worker takes its old place (and
   * partitions, and so its adapters) without waiting for its dead predecessor's session.
   */
  public Map<String, Object> consumerConfig() {
    Map<String, Object> c = new java.util.HashMap<>();
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId());
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, getInt(SESSION_TIMEOUT_MS_CONFIG));
    c.putAll(consumerOverrides());
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS_CONFIG));
    c.put(ConsumerConfig.GROUP_ID_CONFIG, getString(GROUP_ID_CONFIG));
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(
        ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
        CooperativeStickyAssignor.class.getName());
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, getInt(POLL_RECORDS_CONFIG));
    c.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, getInt(MAX_POLL_INTERVAL_MS_CONFIG));
    if (hasStableId()) {
      c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "docstream-worker-" + workerId());
    }
    return c;
  }

  /**
   * The producer's configuration: the {@code producer.*} overrides, then what exactly-once needs (a
   * transactional id per worker id, idempotence, acks=all) and the record size limit.
   */
  public Map<String, Object> producerConfig() {
    Map<String, Object> p = new java.util.HashMap<>();
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "docstream-worker-" + workerId());
    p.putAll(producerOverrides());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS_CONFIG));
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "docstream-worker-" + workerId());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, getInt(RECORD_MAX_BYTES_CONFIG));
    return Map.copyOf(p);
  }

  /** Settings for the Kafka consumer given as {@code consumer.*} keys, prefix removed. */
  public Map<String, Object> consumerOverrides() {
    return originalsWithPrefix(CONSUMER_PREFIX);
  }

  /** Settings for the Kafka producer given as {@code producer.*} keys, prefix removed. */
  public Map<String, Object> producerOverrides() {
    return originalsWithPrefix(PRODUCER_PREFIX);
  }

  public String schemaRegistryAuth() {
    var p = getPassword(SCHEMA_REGISTRY_AUTH_CONFIG);
    return p == null ? null : p.value();
  }
}
