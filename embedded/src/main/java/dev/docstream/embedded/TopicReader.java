package dev.docstream.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a whole topic as a read_committed consumer would: what tests and reports count. */
public final class TopicReader {
  private TopicReader() {}

  /**
   * Reads from the beginning until {@code expected} records have arrived (or {@code timeout}
   * passes), then keeps reading for {@code settle} more, so that extra records (duplicates) are
   * seen too.
   */
  public static <V> List<ConsumerRecord<String, V>> readCommitted(
      String bootstrapServers,
      String topic,
      Deserializer<V> values,
      int expected,
      Duration timeout,
      Duration settle) {
    return readCommitted(bootstrapServers, topic, values, expected, timeout, settle, () -> false);
  }

  /**
   * As above, but gives up early (returning what it has) once {@code giveUp} says so, for example
   * when the process that should write the records has died.
   */
  public static <V> List<ConsumerRecord<String, V>> readCommitted(
      String bootstrapServers,
      String topic,
      Deserializer<V> values,
      int expected,
      Duration timeout,
      Duration settle,
      BooleanSupplier giveUp) {
    Map<String, Object> cfg =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ConsumerConfig.GROUP_ID_CONFIG,
            "reader-" + topic + "-" + System.nanoTime(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false);
    List<ConsumerRecord<String, V>> out = new ArrayList<>();
    try (var consumer = new KafkaConsumer<>(cfg, new StringDeserializer(), values)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      long settleUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, settleUntil) && !giveUp.getAsBoolean()) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
        if (out.size() >= expected && settleUntil == Long.MAX_VALUE) {
          settleUntil = System.nanoTime() + settle.toNanos();
        }
      }
    }
    return out;
  }
}
