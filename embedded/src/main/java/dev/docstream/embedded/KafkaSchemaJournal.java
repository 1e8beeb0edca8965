package dev.docstream.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.schemas.registry.SchemaJournal;
import dev.docstream.schemas.registry.SchemaRegistryException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
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

/**
 * The schema registry's state kept in a compacted Kafka topic of the cluster it serves, as
 * Confluent's registry keeps it in {@code _schemas}, and in Confluent's own record format (key
 * {@code {"keytype":"SCHEMA","subject":..,"version":..,"magic":1}}, value {@code
 * {"subject":..,"version":..,"id":..,"schema":..,"deleted":false}}; CONFIG records for
 * compatibility levels). A registry that starts on a cluster with history reads the topic to its
 * end first, so it serves every id it ever gave with the same schema and never gives an id twice.
 *
 * <p>One writer at a time: the journal writes in Kafka transactions under one transactional id, so
 * a second registry that opens the same topic fences the first, whose next write fails instead of
 * handing out an id the second one also hands out.
 */
public final class KafkaSchemaJournal implements SchemaJournal, AutoCloseable {
  /** The topic, named as Confluent's registry names it. */
  public static final String TOPIC = "_schemas";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String topic;
  private final KafkaProducer<byte[], byte[]> producer;
  private final List<Entry> history;

  /** Why writes are refused, after a write whose outcome is unknown; null while healthy. */
  private String broken;

  private KafkaSchemaJournal(
      String topic, KafkaProducer<byte[], byte[]> producer, List<Entry> history) {
    this.topic = topic;
    this.producer = producer;
    this.history = history;
  }

  /**
   * Opens the journal on an existing compacted topic: takes the writer's role (fencing any earlier
   * writer and settling its open transaction), then reads every committed entry.
   *
   * @throws SchemaRegistryException when the cluster is unreachable or the topic does not exist
   */
  public static KafkaSchemaJournal open(String bootstrapServers, String topic) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "docstream-schema-registry-" + topic);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) TIMEOUT.toMillis());
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    try {
      producer.initTransactions();
      return new KafkaSchemaJournal(topic, producer, readAll(bootstrapServers, topic));
    } catch (KafkaException | SchemaRegistryException e) {
      producer.close(Duration.ZERO);
      if (e instanceof SchemaRegistryException s) {
        throw s;
      }
      throw new SchemaRegistryException(
          -1,
          -1,
          "could not open the schema journal " + topic + " on " + bootstrapServers + ": " + e,
          e);
    }
  }

  @Override
  public List<Entry> history() {
    return List.copyOf(history);
  }

  /**
   * Appends an entry and returns once it is committed; the registry applies it only then.
   *
   * @throws SchemaRegistryException (status 500) when it could not be written, for example after
   *     another registry took over the topic
   */
  @Override
  public synchronized void append(Entry entry) {
    if (broken != null) {
      throw new SchemaRegistryException(
          500,
          50001,
          "the schema journal "
              + topic
              + " refuses writes after a write whose outcome is unknown ("
              + broken
              + "); restart the registry, which re-reads what was committed",
          null);
    }
    try {
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, 0, key(entry), value(entry)));
      producer.commitTransaction();
    } catch (KafkaException | IllegalStateException e) {
      // A commit that failed (a timeout above all) may still land later: handing out the same id
      // again could then give it to two schemas. So no write goes through after one that failed.
      broken = e.getClass().getSimpleName();
      try {
        producer.abortTransaction();
      } catch (KafkaException | IllegalStateException ignored) {
        // the write failed either way, which is what the caller learns
      }
      throw new SchemaRegistryException(
          500, 50001, "could not write to the schema journal " + topic + ": " + e, e);
    }
  }

  private static List<Entry> readAll(String bootstrapServers, String topic) {
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> partitions = consumer.partitionsFor(topic, TIMEOUT);
      if (partitions == null || partitions.isEmpty()) {
        throw new SchemaRegistryException(
            -1,
            -1,
            "the schema journal topic "
                + topic
                + " does not exist on "
                + bootstrapServers
                + "; create it (one partition, cleanup.policy=compact)",
            null);
      }
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(Set.of(tp));
      consumer.seekToBeginning(Set.of(tp));
      long end = consumer.endOffsets(Set.of(tp), TIMEOUT).get(tp);
      List<Entry> entries = new ArrayList<>();
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (consumer.position(tp) < end) {
        if (System.nanoTime() > deadline) {
          throw new SchemaRegistryException(
              -1, -1, "timed out reading the schema journal " + topic, null);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          Entry e = parse(r.key(), r.value());
          if (e != null) {
            entries.add(e);
          }
        }
      }
      return entries;
    }
  }

  static byte[] key(Entry entry) {
    var node = JSON.createObjectNode();
    if (entry instanceof SchemaEntry s) {
      node.put("keytype", "SCHEMA")
          .put("subject", s.subject())
          .put("version", s.version())
          .put("magic", 1);
    } else if (entry instanceof ConfigEntry c) {
      node.put("keytype", "CONFIG").put("subject", c.subject()).put("magic", 0);
    }
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] value(Entry entry) {
    var node = JSON.createObjectNode();
    if (entry instanceof SchemaEntry s) {
      node.put("subject", s.subject())
          .put("version", s.version())
          .put("id", s.id())
          .put("schema", s.schema().toString())
          .put("deleted", false);
    } else if (entry instanceof ConfigEntry c) {
      node.put("compatibilityLevel", c.compatibility());
    }
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * An entry, or null for records this registry does not use (NOOP, DELETE_SUBJECT, tombstones).
   */
  static Entry parse(byte[] key, byte[] value) {
    if (key == null || value == null) {
      return null;
    }
    try {
      JsonNode k = JSON.readTree(key);
      JsonNode v = JSON.readTree(value);
      switch (k.path("keytype").asText("")) {
        case "SCHEMA" -> {
          // A soft-deleted version (Confluent's "deleted": true) is still served by id, as there.
          return new SchemaEntry(
              v.get("subject").asText(),
              v.get("version").asInt(),
              v.get("id").asInt(),
              new Schema.Parser().parse(v.get("schema").asText()));
        }
        case "CONFIG" -> {
          return new ConfigEntry(
              k.get("subject").asText(), v.path("compatibilityLevel").asText("BACKWARD"));
        }
        default -> {
          return null;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      throw new SchemaRegistryException(
          500,
          50002,
          "the schema journal holds a record that does not parse: " + e.getClass().getSimpleName(),
          e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
