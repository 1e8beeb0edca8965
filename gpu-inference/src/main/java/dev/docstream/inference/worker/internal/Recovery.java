package dev.docstream.inference.worker.internal;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the poll loop does when a batch fails: a fatal error (fenced, unauthorized) or one that is
 * not Kafka's stops the worker; a Kafka error, up to {@code maxFailures} in a row, rewinds the
 * failed batches' partitions to their committed offsets and metadata and backs off.
 *
 * <p>Thread: the polling thread (it calls the consumer).
 */
final class Recovery {
  private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

  private final PollSettings settings;
  private final Consumer<String, byte[]> consumer;
  private final PollLoop.Observer observer;
  private final OffsetLedger ledger;
  private final AdapterScheduler<ConsumerRecord<String, byte[]>> buffer;
  private final RecordBuffer<String, byte[]> replayBuffer;
  private int failures;

  Recovery(
      PollSettings settings,
      Consumer<String, byte[]> consumer,
      PollLoop.Observer observer,
      OffsetLedger ledger,
      AdapterScheduler<ConsumerRecord<String, byte[]>> buffer,
      RecordBuffer<String, byte[]> replayBuffer) {
    this.settings = settings;
    this.consumer = consumer;
    this.observer = observer;
    this.ledger = ledger;
    this.buffer = buffer;
    this.replayBuffer = replayBuffer;
  }

  /** A batch committed: the count of failures in a row starts again. */
  void succeeded() {
    failures = 0;
  }

  void failed(List<ConsumerRecord<String, byte[]>> records, Throwable cause) {
    if (FailurePolicy.isFatal(cause)) {
      LOG.error(
          "worker {} is fenced or unauthorized; stopping: {}",
          settings.workerId(),
          cause.toString());
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    if (!(cause instanceof KafkaException kafka)) {
      LOG.error("worker {}: batch failed; stopping: {}", settings.workerId(), cause.toString());
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    observer.transactionFailed();
    if (++failures > settings.maxFailures()) {
      LOG.error(
          "worker {}: {} transactions failed in a row; stopping: {}",
          settings.workerId(),
          failures,
          kafka.toString());
      throw kafka;
    }
    LOG.warn(
        "worker {}: transaction failed ({}), aborted; retrying from the committed offsets",
        settings.workerId(),
        kafka.toString());
    rewind(records);
    Backoff.sleep(failures);
  }

  /**
   * Seeks each partition of a failed batch that this worker still owns back to its committed offset
   * (the ledger back to its committed state) and drops what was buffered for it. If the committed
   * offsets cannot be read, the error stops the worker rather than guess: a restarted worker starts
   * from them.
   */
  void rewind(List<ConsumerRecord<String, byte[]>> records) {
    // Where each partition starts again if nothing is committed: its lowest record not done.
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      long undone = ledger.commitPoint(tp);
      first.merge(tp, undone >= 0 ? Math.min(undone, r.offset()) : r.offset(), Math::min);
    }
    buffer.removeIf(r -> first.containsKey(new TopicPartition(r.topic(), r.partition())));
    replayBuffer.drop(first.keySet());
    ledger.revoke(first.keySet());
    Set<TopicPartition> owned = new HashSet<>(first.keySet());
    owned.retainAll(consumer.assignment());
    if (owned.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(owned);
    for (TopicPartition tp : owned) {
      OffsetAndMetadata c = committed.get(tp);
      consumer.seek(tp, c == null ? first.get(tp) : c.offset());
      ledger.assign(tp, c == null ? new OffsetAndMetadata(first.get(tp)) : c);
    }
  }
}
