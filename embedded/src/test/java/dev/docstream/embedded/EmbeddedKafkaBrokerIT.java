package dev.docstream.embedded;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedded broker supports transactions: aborted writes stay invisible to read_committed. */
class EmbeddedKafkaBrokerIT {
  private static EmbeddedKafkaBroker broker;

  @BeforeAll
  static void start() {
    long t0 = System.nanoTime();
    broker = EmbeddedKafkaBroker.ephemeral().start();
    System.out.printf("embedded broker start-up: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  /**
   * Writes from the moment createTopics returns: an idempotent producer's first batch must not meet
   * a partition the broker has not opened yet (it then gets NOT_LEADER_OR_FOLLOWER, a later batch
   * lands first, and the retried first batch fails on its sequence number until the delivery
   * timeout drops it: CI lost 57 WorkerIT jobs that way, twice).
   */
  @Test
  void shouldAcceptWritesAsSoonAsCreateTopicsReturns() throws Exception {
    int topics = 20;
    int partitions = 4;
    Map<String, Object> p =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            broker.bootstrapServers(),
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.BATCH_SIZE_CONFIG,
            2048,
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
            15_000,
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
            5_000);
    String value = "x".repeat(300);
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (int t = 0; t < topics; t++) {
        String topic = "fresh-" + t + "-" + System.nanoTime();
        broker.createTopics(Map.of(topic, partitions));
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          sent.add(producer.send(new ProducerRecord<>(topic, i % partitions, "k" + i, value)));
        }
        for (var f : sent) {
          f.get(); // an expired batch fails here
        }
      }
    }
  }

  @Test
  void shouldHideAbortedTransactionsFromReadCommittedConsumers() {
    String topic = "tx-" + System.nanoTime();
    broker.createTopics(Map.of(topic, 2));
    Map<String, Object> p =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            broker.bootstrapServers(),
            ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            "tx-test",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true);
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "k", "aborted"));
      producer.abortTransaction();
      producer.beginTransaction();
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>(topic, "k" + i, "committed-" + i));
      }
      producer.commitTransaction();
    }
    Map<String, Object> c =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            broker.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            "g-" + topic,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed");
    List<String> seen = new ArrayList<>();
    try (var consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ZERO)
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
                return seen.size() >= 10;
              });
    }
    assertEquals(10, seen.size(), seen.toString());
    assertEquals(0, seen.stream().filter(v -> v.equals("aborted")).count());
  }
}
