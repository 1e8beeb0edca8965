package dev.docstream.topology.intake;

import dev.docstream.topology.images.DirectoryImageStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Intake's configuration, declared once Kafka-style: every key has a type, a default, a validator
 * and a one-line doc. Built from properties and validated at start-up; a bad value fails with a
 * message naming the key.
 */
public final class IntakeConfig extends AbstractConfig {
  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  public static final String APPLICATION_ID_CONFIG = "application.id";
  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  public static final String SCHEMA_REGISTRY_AUTH_CONFIG = "schema.registry.basic.auth.user.info";
  public static final String DOCUMENT_TYPES_CONFIG = "intake.document.types";
  public static final String DOCUMENT_TYPES_SOURCE_CONFIG = "intake.document.types.source";
  public static final String MANIFESTS_TOPIC_CONFIG = "adapters.manifests.topic";
  public static final String REPLAY_TOPIC_CONFIG = "intake.replay.topic";
  public static final String IMAGE_MAX_BYTES_CONFIG = "intake.image.max.bytes";
  public static final String DEDUPE_WINDOW_MS_CONFIG = "intake.dedupe.window.ms";
  public static final String IMAGE_ROOT_CONFIG = "intake.image.reference.root";
  public static final String STATE_DIR_CONFIG = "state.dir";
  public static final String NUM_THREADS_CONFIG = "num.stream.threads";
  public static final String RECORD_MAX_BYTES_CONFIG = "intake.record.max.bytes";
  public static final String IMAGE_MAX_PIXELS_CONFIG = "intake.image.max.pixels";
  public static final String PROCESSING_MAX_ATTEMPTS_CONFIG = "intake.processing.max.attempts";
  public static final String INSTANCE_ID_CONFIG = "intake.instance.id";
  public static final String IMAGES_DIR_CONFIG = "intake.images.dir";
  public static final String IMAGES_RETENTION_MS_CONFIG = "intake.images.retention.ms";
  public static final String IMAGES_SWEEP_INTERVAL_MS_CONFIG = "intake.images.sweep.interval.ms";
  public static final String HOT_TYPES_CONFIG = "intake.hot.types";

  /**
   * Bytes a request or dead letter needs beyond its image: ids, fields, timestamps, with room to
   * spare.
   */
  public static final int RECORD_HEADROOM_BYTES = 16 * 1024;

  private static final ConfigDef DEF =
      new ConfigDef()
          .define(
              BOOTSTRAP_SERVERS_CONFIG,
              Type.STRING,
              "localhost:9092",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Kafka bootstrap servers, host:port[,host:port].")
          .define(
              APPLICATION_ID_CONFIG,
              Type.STRING,
              "docstream-intake",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Kafka Streams application id: the consumer group and state-store prefix.")
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
              DOCUMENT_TYPES_CONFIG,
              Type.LIST,
              List.of(),
              Importance.HIGH,
              "With intake.document.types.source=static: the document types accepted (comma-separated ids); any other is dead-lettered as UNKNOWN_DOC_TYPE.")
          .define(
              DOCUMENT_TYPES_SOURCE_CONFIG,
              Type.STRING,
              "registry",
              ConfigDef.ValidString.in("registry", "static"),
              Importance.HIGH,
              "registry: accept the types with a promoted adapter in adapters.manifests, followed while intake runs (a retired one is DOCUMENT_TYPE_RETIRED); static: intake.document.types.")
          .define(
              REPLAY_TOPIC_CONFIG,
              Type.STRING,
              "verification.jobs.replay",
              Importance.MEDIUM,
              "The replay input (docstream replay writes there), validated in a sub-topology of its own so a backlog never queues ahead of live jobs; its jobs go to the replay lane. Empty: none.")
          .define(
              MANIFESTS_TOPIC_CONFIG,
              Type.STRING,
              "adapters.manifests",
              new ConfigDef.NonEmptyString(),
              Importance.LOW,
              "The adapters registry's compacted manifests topic.")
          .define(
              IMAGE_MAX_BYTES_CONFIG,
              Type.INT,
              1_000_000,
              ConfigDef.Range.atLeast(1),
              Importance.MEDIUM,
              "Largest accepted image in bytes; larger ones are dead-lettered as IMAGE_TOO_LARGE. At most "
                  + RECORD_MAX_BYTES_CONFIG
                  + " - "
                  + RECORD_HEADROOM_BYTES
                  + ".")
          .define(
              IMAGE_MAX_PIXELS_CONFIG,
              Type.LONG,
              25_000_000L,
              ConfigDef.Range.atLeast(1),
              Importance.MEDIUM,
              "Most pixels (width x height) an image may declare; more is dead-lettered as IMAGE_TOO_LARGE before decoding.")
          .define(
              RECORD_MAX_BYTES_CONFIG,
              Type.INT,
              1_048_576,
              ConfigDef.Range.atLeast(64 * 1024),
              Importance.MEDIUM,
              "Largest record intake writes (its producer's max.request.size); keep it at or below the broker's "
                  + "message.max.bytes, and raise both together with "
                  + IMAGE_MAX_BYTES_CONFIG
                  + ".")
          .define(
              PROCESSING_MAX_ATTEMPTS_CONFIG,
              Type.INT,
              3,
              ConfigDef.Range.between(1, 100),
              Importance.LOW,
              "Times a record whose processing fails is retried before it is dead-lettered as PROCESSING_FAILED.")
          .define(
              INSTANCE_ID_CONFIG,
              Type.STRING,
              "",
              Importance.LOW,
              "Static group membership id of this intake instance; empty = dynamic. A restarted static member "
                  + "takes its partitions back at once instead of waiting for the old session to expire.")
          .define(
              DEDUPE_WINDOW_MS_CONFIG,
              Type.LONG,
              Duration.ofHours(24).toMillis(),
              ConfigDef.Range.atLeast(1),
              Importance.MEDIUM,
              "A job id accepted within this many milliseconds is not forwarded again.")
          .define(
              IMAGE_ROOT_CONFIG,
              Type.STRING,
              "",
              Importance.MEDIUM,
              "Folder that file: image references must lie under; empty rejects every reference.")
          .define(
              IMAGES_DIR_CONFIG,
              Type.STRING,
              "var/up/images",
              Importance.MEDIUM,
              "Folder where accepted jobs' images are kept by sha256 for QC review (the claim check); "
                  + "empty keeps none.")
          .define(
              IMAGES_RETENTION_MS_CONFIG,
              Type.LONG,
              Duration.ofDays(30).toMillis(),
              ConfigDef.Range.atLeast(1),
              Importance.MEDIUM,
              "How long a stored image is kept (identity images are personal data); older ones are deleted.")
          .define(
              IMAGES_SWEEP_INTERVAL_MS_CONFIG,
              Type.LONG,
              Duration.ofHours(1).toMillis(),
              ConfigDef.Range.atLeast(1),
              Importance.LOW,
              "How often expired images are deleted.")
          .define(
              STATE_DIR_CONFIG,
              Type.STRING,
              System.getProperty("java.io.tmpdir") + "/docstream-streams",
              Importance.LOW,
              "Where Kafka Streams keeps the dedupe store.")
          .define(
              HOT_TYPES_CONFIG,
              Type.LIST,
              "",
              Importance.MEDIUM,
              "Hot document types spread over several partitions, as TYPE:SHARDS (e.g. "
                  + "PASSPORT_FR:4): their jobs are keyed TYPE#0 .. TYPE#SHARDS-1 by job id, so "
                  + "several workers share them; other types keep one key.")
          .define(
              NUM_THREADS_CONFIG,
              Type.INT,
              1,
              ConfigDef.Range.atLeast(1),
              Importance.LOW,
              "Stream threads.");

  public IntakeConfig(Map<?, ?> props) {
    super(DEF, props);
    keyShards(); // a bad entry fails here, naming itself
    if (imageMaxBytes() > recordMaxBytes() - RECORD_HEADROOM_BYTES) {
      throw new ConfigException(
          IMAGE_MAX_BYTES_CONFIG,
          imageMaxBytes(),
          "must be at most "
              + RECORD_MAX_BYTES_CONFIG
              + " ("
              + recordMaxBytes()
              + ") - "
              + RECORD_HEADROOM_BYTES
              + ", or an accepted image's request would not fit in a record; raise both together");
    }
  }

  public int recordMaxBytes() {
    return getInt(RECORD_MAX_BYTES_CONFIG);
  }

  public long imageMaxPixels() {
    return getLong(IMAGE_MAX_PIXELS_CONFIG);
  }

  public int processingMaxAttempts() {
    return getInt(PROCESSING_MAX_ATTEMPTS_CONFIG);
  }

  /** The declared keys, for --help. */
  public static ConfigDef definition() {
    return DEF;
  }

  /** The replay input topic, or "" for none. */
  public String replayTopic() {
    return getString(REPLAY_TOPIC_CONFIG);
  }

  /** Whether the accepted document types come from the adapters registry. */
  public boolean documentTypesFromRegistry() {
    return "registry".equals(getString(DOCUMENT_TYPES_SOURCE_CONFIG));
  }

  public Set<String> documentTypes() {
    return Set.copyOf(getList(DOCUMENT_TYPES_CONFIG));
  }

  public int imageMaxBytes() {
    return getInt(IMAGE_MAX_BYTES_CONFIG);
  }

  public Duration dedupeWindow() {
    return Duration.ofMillis(getLong(DEDUPE_WINDOW_MS_CONFIG));
  }

  /** Root for file: references, or null when references are not accepted. */
  public Path imageRoot() {
    String root = getString(IMAGE_ROOT_CONFIG);
    return root.isEmpty() ? null : Path.of(root).toAbsolutePath().normalize();
  }

  /** Where accepted images are kept; null keeps none. */
  public Path imagesDir() {
    String dir = getString(IMAGES_DIR_CONFIG);
    return dir.isBlank() ? null : Path.of(dir);
  }

  /** The image store of {@code intake.images.dir}, or null when none is kept. */
  public DirectoryImageStore imageStore() {
    Path dir = imagesDir();
    return dir == null ? null : new DirectoryImageStore(dir, imagesRetention(), Clock.systemUTC());
  }

  public Duration imagesRetention() {
    return Duration.ofMillis(getLong(IMAGES_RETENTION_MS_CONFIG));
  }

  public Duration imagesSweepInterval() {
    return Duration.ofMillis(getLong(IMAGES_SWEEP_INTERVAL_MS_CONFIG));
  }

  public String schemaRegistryUrl() {
    return getString(SCHEMA_REGISTRY_URL_CONFIG);
  }

  public String schemaRegistryAuth() {
    var p = getPassword(SCHEMA_REGISTRY_AUTH_CONFIG);
    return p == null ? null : p.value();
  }

  /** Kafka Streams properties: exactly-once v2, and this app's id, servers and state dir. */
  public Properties streamsProperties() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, getString(APPLICATION_ID_CONFIG));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS_CONFIG));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR_CONFIG));
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, getInt(NUM_THREADS_CONFIG));
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1); // the broker's default
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), recordMaxBytes());
    if (!getString(INSTANCE_ID_CONFIG).isEmpty()) {
      // Kafka Streams appends each thread's index to it.
      p.put(
          StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
          getString(INSTANCE_ID_CONFIG));
    }
    return p;
  }

  /** The key shards of the hot document types. */
  public KeyShards keyShards() {
    return KeyShards.parse(HOT_TYPES_CONFIG, getList(HOT_TYPES_CONFIG));
  }
}
