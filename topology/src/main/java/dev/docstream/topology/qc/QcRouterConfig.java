package dev.docstream.topology.qc;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The QC router's configuration: which results are sampled into {@code qc.review}. Every key has a
 * default and a one-line doc; per-type overrides are {@code TYPE=value} lists.
 */
public final class QcRouterConfig extends AbstractConfig {
  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  public static final String APPLICATION_ID_CONFIG = "qc.router.application.id";
  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  public static final String STATE_DIR_CONFIG = "qc.router.state.dir";
  public static final String LOW_CONFIDENCE_THRESHOLD_CONFIG = "qc.low.confidence.threshold";
  public static final String LOW_CONFIDENCE_THRESHOLDS_CONFIG = "qc.low.confidence.thresholds";
  public static final String RANDOM_SHARE_CONFIG = "qc.random.share";
  public static final String RANDOM_SHARES_CONFIG = "qc.random.shares";
  public static final String NEW_ADAPTER_RESULTS_CONFIG = "qc.new.adapter.results";
  public static final String NEW_ADAPTER_SHARE_CONFIG = "qc.new.adapter.share";
  public static final String DEDUPE_WINDOW_MS_CONFIG = "qc.router.dedupe.window.ms";
  public static final String INSTANCE_ID_CONFIG = "qc.router.instance.id";

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
              "docstream-qc-router",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Kafka Streams application id of the QC router.")
          .define(
              SCHEMA_REGISTRY_URL_CONFIG,
              Type.STRING,
              "mock://docstream",
              new ConfigDef.NonEmptyString(),
              Importance.HIGH,
              "Schema registry: http(s)://host:port, or mock://<scope> for the in-memory one.")
          .define(
              STATE_DIR_CONFIG,
              Type.STRING,
              System.getProperty("java.io.tmpdir") + "/docstream-qc-router",
              Importance.LOW,
              "Where the router keeps its stores (jobs already tasked, results seen per adapter).")
          .define(
              LOW_CONFIDENCE_THRESHOLD_CONFIG,
              Type.DOUBLE,
              0.5,
              ConfigDef.Range.between(0, 1),
              Importance.MEDIUM,
              "A result with a requested field under this confidence is sampled as LOW_CONFIDENCE.")
          .define(
              LOW_CONFIDENCE_THRESHOLDS_CONFIG,
              Type.LIST,
              List.of(),
              Importance.LOW,
              "Per-type thresholds, TYPE=threshold, overriding "
                  + LOW_CONFIDENCE_THRESHOLD_CONFIG
                  + ".")
          .define(
              RANDOM_SHARE_CONFIG,
              Type.DOUBLE,
              0.02,
              ConfigDef.Range.between(0, 1),
              Importance.MEDIUM,
              "Share of each type's results sampled as RANDOM: the unbiased audit sample.")
          .define(
              RANDOM_SHARES_CONFIG,
              Type.LIST,
              List.of(),
              Importance.LOW,
              "Per-type audit shares, TYPE=share, overriding " + RANDOM_SHARE_CONFIG + ".")
          .define(
              NEW_ADAPTER_RESULTS_CONFIG,
              Type.INT,
              200,
              ConfigDef.Range.atLeast(0),
              Importance.MEDIUM,
              "The first this many results of an adapter version are sampled at "
                  + NEW_ADAPTER_SHARE_CONFIG
                  + ".")
          .define(
              NEW_ADAPTER_SHARE_CONFIG,
              Type.DOUBLE,
              0.2,
              ConfigDef.Range.between(0, 1),
              Importance.MEDIUM,
              "Share of a new adapter version's first results sampled as NEW_ADAPTER.")
          .define(
              DEDUPE_WINDOW_MS_CONFIG,
              Type.LONG,
              Duration.ofDays(7).toMillis(),
              ConfigDef.Range.atLeast(1),
              Importance.LOW,
              "A job tasked within this many milliseconds is not tasked again (one task per job).")
          .define(
              INSTANCE_ID_CONFIG,
              Type.STRING,
              "",
              Importance.LOW,
              "Static group membership id of this router instance; empty = dynamic.");

  private final Map<String, Double> thresholds;
  private final Map<String, Double> shares;

  public QcRouterConfig(Map<?, ?> props) {
    super(DEF, props);
    thresholds = perType(LOW_CONFIDENCE_THRESHOLDS_CONFIG);
    shares = perType(RANDOM_SHARES_CONFIG);
  }

  /** The keys, their defaults and docs. */
  public static ConfigDef definition() {
    return DEF;
  }

  private Map<String, Double> perType(String key) {
    Map<String, Double> out = new HashMap<>();
    for (String entry : getList(key)) {
      int eq = entry.lastIndexOf('=');
      double v;
      try {
        v = eq <= 0 ? Double.NaN : Double.parseDouble(entry.substring(eq + 1));
      } catch (NumberFormatException e) {
        v = Double.NaN;
      }
      if (!(v >= 0 && v <= 1)) {
        throw new ConfigException(key, entry, "expected TYPE=number between 0 and 1");
      }
      out.put(entry.substring(0, eq).trim(), v);
    }
    return Map.copyOf(out);
  }

  /** The sampling rules these settings make. */
  public QcSampler sampler() {
    return new QcSampler(
        getDouble(LOW_CONFIDENCE_THRESHOLD_CONFIG),
        thresholds,
        getDouble(RANDOM_SHARE_CONFIG),
        shares,
        getInt(NEW_ADAPTER_RESULTS_CONFIG),
        getDouble(NEW_ADAPTER_SHARE_CONFIG));
  }

  public String schemaRegistryUrl() {
    return getString(SCHEMA_REGISTRY_URL_CONFIG);
  }

  public Duration dedupeWindow() {
    return Duration.ofMillis(getLong(DEDUPE_WINDOW_MS_CONFIG));
  }

  /** Kafka Streams properties: exactly-once, one thread. */
  public Properties streamsProperties() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, getString(APPLICATION_ID_CONFIG));
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, getString(BOOTSTRAP_SERVERS_CONFIG));
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATE_DIR_CONFIG, getString(STATE_DIR_CONFIG));
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    String instance = getString(INSTANCE_ID_CONFIG);
    if (!instance.isBlank()) {
      p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instance);
    }
    return p;
  }
}
