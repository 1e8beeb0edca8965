package dev.docstream.adapters.registry;

import dev.docstream.schemas.AdapterManifest;
import dev.docstream.schemas.serde.AvroSerde;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manifests topic, read and written. Writes are transactional under one transactional id, so
 * the registry has one writer at a time: opening a log fences any earlier writer (and settles its
 * open transaction) before this one reads the topic, so two operators changing the same type at
 * once cannot both give out the same version; the fenced one's write fails.
 */
public final class ManifestLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ManifestLog.class);

  /** The transactional id every registry writer shares. */
  public static final String TRANSACTIONAL_ID = "docstream-adapters-registry";

  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String topic;
  private final Map<String, Object> clientProps;
  private final AvroSerde<AdapterManifest> serde;
  private final KafkaProducer<String, byte[]> producer;

  private ManifestLog(
      String topic,
      Map<String, Object> clientProps,
      AvroSerde<AdapterManifest> serde,
      KafkaProducer<String, byte[]> producer) {
    this.topic = topic;
    this.clientProps = clientProps;
    this.serde = serde;
    this.producer = producer;
  }

  /**
   * Opens the log for writing: takes the writer's role.
   *
   * @param clientProps {@code bootstrap.servers} and any security settings, for both clients
   */
  public static ManifestLog open(
      Map<String, Object> clientProps, String topic, AvroSerde<AdapterManifest> serde)
      throws RegistryException {
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, TRANSACTIONAL_ID + "-" + topic);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      producer.close(Duration.ZERO);
      throw new RegistryException(
          "cannot open the adapters registry on " + clientProps.get("bootstrap.servers") + ": " + e,
          e);
    }
    return new ManifestLog(topic, Map.copyOf(clientProps), serde, producer);
  }

  /** Opens the log for reading only: fences nobody; {@link #write} refuses. */
  public static ManifestLog openReader(
      Map<String, Object> clientProps, String topic, AvroSerde<AdapterManifest> serde) {
    return new ManifestLog(topic, Map.copyOf(clientProps), serde, null);
  }

  /** Every type's latest committed manifest. */
  public Map<String, AdapterManifest> latest() throws RegistryException {
    Map<String, AdapterManifest> out = new HashMap<>();
    readAll(clientProps, topic, serde, m -> out.put(m.getDocumentType(), m));
    return out;
  }

  /** Every committed manifest of one type, oldest first: the audit log compaction has kept. */
  public List<AdapterManifest> history(String documentType) throws RegistryException {
    List<AdapterManifest> out = new ArrayList<>();
    readAll(
        clientProps,
        topic,
        serde,
        m -> {
          if (m.getDocumentType().equals(documentType)) {
            out.add(m);
          }
        });
    return out;
  }

  /** Writes a manifest and returns once it is committed. */
  public void write(AdapterManifest manifest) throws RegistryException {
    if (producer == null) {
      throw new IllegalStateException("the manifest log was opened for reading only");
    }
    try {
      producer.beginTransaction();
      producer.send(
          new ProducerRecord<>(
              topic, manifest.getDocumentType(), serde.serialize(topic, manifest)));
      producer.commitTransaction();
    } catch (KafkaException | IllegalStateException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException | IllegalStateException ignored) {
        // the write failed either way
      }
      throw new RegistryException(
          "could not write "
              + manifest.getAdapterId()
              + " to "
              + topic
              + " (another registry writer may have taken over; run the command again): "
              + e,
          e);
    }
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
  }

  /** Reads a topic from its start to its end now, read_committed; undecodable records skipped. */
  static void readAll(
      Map<String, Object> clientProps,
      String topic,
      AvroSerde<AdapterManifest> serde,
      Consumer<AdapterManifest> sink)
      throws RegistryException {
    try (KafkaConsumer<String, byte[]> consumer = consumer(clientProps)) {
      List<TopicPartition> parts = partitions(consumer, topic, clientProps);
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, TIMEOUT);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new RegistryException("timed out reading " + topic);
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          AdapterManifest m = decode(serde, r);
          if (m != null) {
            sink.accept(m);
          }
        }
      }
    } catch (KafkaException e) {
      throw new RegistryException("cannot read " + topic + ": " + e, e);
    }
  }

  static KafkaConsumer<String, byte[]> consumer(Map<String, Object> clientProps) {
    Map<String, Object> c = new HashMap<>(clientProps);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    return new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
  }

  static List<TopicPartition> partitions(
      KafkaConsumer<?, ?> consumer, String topic, Map<String, Object> clientProps)
      throws RegistryException {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, TIMEOUT);
    if (infos == null || infos.isEmpty()) {
      throw new RegistryException(
          "the topic "
              + topic
              + " does not exist on "
              + clientProps.get("bootstrap.servers")
              + "; create it (cleanup.policy=compact)");
    }
    return infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
  }

  /** A manifest, or null (logged with its offset) when the record does not decode. */
  static AdapterManifest decode(
      AvroSerde<AdapterManifest> serde, ConsumerRecord<String, byte[]> r) {
    if (r.value() == null) {
      return null; // a tombstone
    }
    try {
      return serde.deserialize(r.topic(), r.value());
    } catch (RuntimeException e) {
      LOG.error(
          "skipping an undecodable manifest at {}-{}@{}: {}",
          r.topic(),
          r.partition(),
          r.offset(),
          e.toString());
      return null;
    }
  }
}
