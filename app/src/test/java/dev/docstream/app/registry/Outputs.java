package dev.docstream.app.registry;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the results and dead-letter topics (read_committed) on a background thread, in the order
 * they were committed per partition, for tests that watch the pipeline while it runs.
 */
final class Outputs implements AutoCloseable {
  private final KafkaConsumer<String, byte[]> consumer;
  private final Thread thread;
  private final List<ExtractionResult> results = new ArrayList<>();
  private final Map<Integer, List<ExtractionResult>> byPartition = new java.util.TreeMap<>();
  private final List<DeadLetter> deadLetters = new ArrayList<>();
  private volatile boolean running = true;

  Outputs(String bootstrap, SchemaRegistry registry) {
    consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed",
                ConsumerConfig.GROUP_ID_CONFIG,
                "outputs-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest"),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    var resultSerde = Topics.EXTRACTION_RESULTS.valueSerde(registry);
    var dlqSerde = Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry);
    consumer.subscribe(
        List.of(Topics.EXTRACTION_RESULTS.name(), Topics.VERIFICATION_JOBS_DLQ.name()));
    thread =
        new Thread(
            () -> {
              try {
                while (running) {
                  for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    synchronized (this) {
                      if (r.topic().equals(Topics.EXTRACTION_RESULTS.name())) {
                        ExtractionResult v = resultSerde.deserialize(r.topic(), r.value());
                        results.add(v);
                        byPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(v);
                      } else {
                        deadLetters.add(dlqSerde.deserialize(r.topic(), r.value()));
                      }
                    }
                  }
                }
              } catch (WakeupException e) {
                // closing
              }
            },
            "outputs");
    thread.setDaemon(true);
    thread.start();
  }

  synchronized List<ExtractionResult> results() {
    return List.copyOf(results);
  }

  /** Results per partition of the results topic, in commit order. */
  synchronized Map<Integer, List<ExtractionResult>> resultsByPartition() {
    Map<Integer, List<ExtractionResult>> out = new java.util.TreeMap<>();
    byPartition.forEach((p, l) -> out.put(p, List.copyOf(l)));
    return out;
  }

  synchronized List<DeadLetter> deadLetters() {
    return List.copyOf(deadLetters);
  }

  /** Results of these job ids so far. */
  synchronized List<ExtractionResult> resultsOf(java.util.Set<String> jobIds) {
    return results.stream().filter(r -> jobIds.contains(r.getJobId())).toList();
  }

  /** Dead letters of these job ids so far. */
  synchronized List<DeadLetter> deadLettersOf(java.util.Set<String> jobIds) {
    return deadLetters.stream().filter(d -> jobIds.contains(d.getJobId())).toList();
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    consumer.wakeup();
    thread.join(5000);
    consumer.close();
  }
}
