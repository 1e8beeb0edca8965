package dev.docstream.app.qc;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/** The review service's configuration: every key with a default and a one-line doc. */
public final class ReviewConfig extends AbstractConfig {
  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  public static final String HOST_CONFIG = "qc.review.host";
  public static final String PORT_CONFIG = "qc.review.port";
  public static final String ANALYSTS_CONFIG = "qc.analysts";
  public static final String LEASE_MS_CONFIG = "qc.lease.ms";
  public static final String SESSION_IDLE_MS_CONFIG = "qc.session.idle.ms";
  public static final String IMAGES_DIR_CONFIG = "qc.images.dir";
  public static final String IMAGES_RETENTION_MS_CONFIG = "qc.images.retention.ms";
  public static final String LOW_CONFIDENCE_CONFIG = "qc.low.confidence.threshold";
  public static final String TRANSACTIONAL_ID_CONFIG = "qc.review.transactional.id";
  public static final String METRICS_PORT_CONFIG = "qc.metrics.port";
  public static final String METRICS_TOP_K_CONFIG = "qc.metrics.types.top.k";

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
              SCHEMA_REGISTRY_URL_CONFIG,
              Type.STRING,
              "mock://docstream",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Schema registry: http(s)://host:port, or mock://<scope> for the in-memory one.")
          .define(
              HOST_CONFIG,
              Type.STRING,
              "localhost",
              Importance.MEDIUM,
              "Interface the review page listens on; put it behind TLS before opening it wider.")
          .define(
              PORT_CONFIG,
              Type.INT,
              8083,
              ConfigDef.Range.between(0, 65535),
              Importance.MEDIUM,
              "Port of the review page and its API; 0 any free port.")
          .define(
              ANALYSTS_CONFIG,
              Type.LIST,
              List.of(),
              Importance.HIGH,
              "Analysts who may sign in, name:pbkdf2-sha256$... each (docstream qc hash-password makes one).")
          .define(
              LEASE_MS_CONFIG,
              Type.LONG,
              Duration.ofMinutes(5).toMillis(),
              ConfigDef.Range.atLeast(1000),
              Importance.MEDIUM,
              "How long an opened task stays leased to its analyst before it returns to the queue.")
          .define(
              SESSION_IDLE_MS_CONFIG,
              Type.LONG,
              Duration.ofHours(8).toMillis(),
              ConfigDef.Range.atLeast(1000),
              Importance.LOW,
              "A session unused this long is signed out.")
          .define(
              IMAGES_DIR_CONFIG,
              Type.STRING,
              "var/up/images",
              Importance.MEDIUM,
              "The image store intake writes (intake.images.dir): where task images are read from.")
          .define(
              IMAGES_RETENTION_MS_CONFIG,
              Type.LONG,
              Duration.ofDays(30).toMillis(),
              ConfigDef.Range.atLeast(1),
              Importance.LOW,
              "Images older than this are not shown (as intake.images.retention.ms).")
          .define(
              LOW_CONFIDENCE_CONFIG,
              Type.DOUBLE,
              0.5,
              ConfigDef.Range.between(0, 1),
              Importance.LOW,
              "Fields under this confidence are highlighted in the task view.")
          .define(
              TRANSACTIONAL_ID_CONFIG,
              Type.STRING,
              "docstream-qc-review",
              new ConfigDef.NonEmptyString(),
              Importance.LOW,
              "Transactional id of the service's writes; a second instance with it fences the first.")
          .define(
              METRICS_PORT_CONFIG,
              Type.INT,
              -1,
              ConfigDef.Range.between(-1, 65535),
              Importance.LOW,
              "Port of the Prometheus scrape endpoint /metrics (quality figures); -1 off, 0 any free port.")
          .define(
              METRICS_TOP_K_CONFIG,
              Type.INT,
              20,
              ConfigDef.Range.atLeast(0),
              Importance.LOW,
              "Document types (most reviewed first) whose quality figures get their own metric tags.");

  public ReviewConfig(Map<?, ?> props) {
    super(DEF, props);
  }

  /** The keys, their defaults and docs. */
  public static ConfigDef definition() {
    return DEF;
  }

  public Path imagesDir() {
    return Path.of(getString(IMAGES_DIR_CONFIG));
  }

  public Duration lease() {
    return Duration.ofMillis(getLong(LEASE_MS_CONFIG));
  }

  public Duration sessionIdle() {
    return Duration.ofMillis(getLong(SESSION_IDLE_MS_CONFIG));
  }

  public Duration imagesRetention() {
    return Duration.ofMillis(getLong(IMAGES_RETENTION_MS_CONFIG));
  }
}
