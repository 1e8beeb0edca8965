package dev.docstream.topology.qc.review;

import dev.docstream.schemas.QcLease;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code qc.review}, {@code qc.leases} and {@code qc.verdicts} from their beginning into a
 * {@link ReviewQueue} (committed records only), then follows them on a thread of its own. It uses
 * no consumer group: every service instance reads everything.
 */
final class ReviewFollower implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReviewFollower.class);
  private static final List<String> TOPICS =
      List.of(Topics.QC_REVIEW.name(), Topics.QC_LEASES.name(), Topics.QC_VERDICTS.name());

  private final KafkaConsumer<String, byte[]> consumer;
  private final ReviewQueue queue;
  private final AvroSerde<QcTask> tasks;
  private final AvroSerde<QcLease> leases;
  private final AvroSerde<QcVerdict> verdicts;
  private final Thread thread;
  private volatile boolean running = true;

  private ReviewFollower(
      KafkaConsumer<String, byte[]> consumer, SchemaRegistry registry, ReviewQueue queue) {
    this.consumer = consumer;
    this.queue = queue;
    this.tasks = Topics.QC_REVIEW.valueSerde(registry);
    this.leases = Topics.QC_LEASES.valueSerde(registry);
    this.verdicts = Topics.QC_VERDICTS.valueSerde(registry);
    this.thread = new Thread(this::follow, "review-follower");
    this.thread.setDaemon(true);
  }

  /** Reads everything there is now, then follows; throws if the topics cannot be read in time. */
  static ReviewFollower start(
      Map<String, Object> kafka, SchemaRegistry registry, ReviewQueue queue, Duration timeout) {
    ReviewFollower f = startReading(kafka, registry, queue, timeout);
    f.thread.start();
    return f;
  }

  private static ReviewFollower startReading(
      Map<String, Object> kafka, SchemaRegistry registry, ReviewQueue queue, Duration timeout) {
    Map<String, Object> c = new HashMap<>(kafka);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    ReviewFollower f = new ReviewFollower(consumer, registry, queue);
    try {
      List<TopicPartition> parts = new ArrayList<>();
      for (String topic : TOPICS) {
        List<PartitionInfo> info = consumer.partitionsFor(topic, timeout);
        if (info == null || info.isEmpty()) {
          throw new IllegalStateException("topic " + topic + " does not exist; create it first");
        }
        info.forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!caughtUp(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the review topics were not read within " + timeout);
        }
        f.apply(consumer.poll(Duration.ofMillis(200)));
      }
    } catch (RuntimeException e) {
      consumer.close(Duration.ZERO);
      throw e;
    }
    return f;
  }

  /** Reads everything there is now into a new queue, and stops: for exports and reports. */
  static ReviewQueue readOnce(
      Map<String, Object> kafka, SchemaRegistry registry, Duration timeout) {
    ReviewQueue queue = new ReviewQueue();
    ReviewFollower f = startReading(kafka, registry, queue, timeout);
    f.consumer.close(Duration.ofSeconds(2));
    return queue;
  }

  private static boolean caughtUp(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void follow() {
    try {
      while (running) {
        apply(consumer.poll(Duration.ofMillis(500)));
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  private void apply(Iterable<ConsumerRecord<String, byte[]>> records) {
    for (ConsumerRecord<String, byte[]> r : records) {
      if (r.value() == null) {
        continue;
      }
      try {
        if (r.topic().equals(Topics.QC_REVIEW.name())) {
          queue.task(tasks.deserialize(r.topic(), r.value()));
        } else if (r.topic().equals(Topics.QC_LEASES.name())) {
          queue.lease(leases.deserialize(r.topic(), r.value()));
        } else {
          queue.verdict(verdicts.deserialize(r.topic(), r.value()));
        }
      } catch (WireFormatException e) {
        LOG.warn(
            "undecodable record {}-{}@{} skipped: {}",
            r.topic(),
            r.partition(),
            r.offset(),
            e.reason());
      }
    }
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
