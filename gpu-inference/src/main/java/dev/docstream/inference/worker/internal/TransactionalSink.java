package dev.docstream.inference.worker.internal;

import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.serde.AvroSerde;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's transactional producer and its lifecycle: one transaction per batch (begin, send
 * results and dead letters, send the consumed offsets, commit). On a failure the transaction is
 * aborted; where Kafka refuses the abort (a commit that timed out has an unknown outcome), the
 * producer is replaced: the new one, under the same transactional id, fences the old and waits in
 * initTransactions until the coordinator settled the open transaction, so the committed offsets the
 * poll loop seeks back to are final. A fenced producer is never replaced: a new one would fence the
 * worker that owns the id now.
 *
 * <p>Thread: the worker's inference thread only (and {@link #close()} after it stopped).
 */
public final class TransactionalSink implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TransactionalSink.class);

  private final Supplier<Producer<String, byte[]>> producers;
  private final AvroSerde<ExtractionResult> resultSerde;
  private final String resultsTopic;
  private final String workerId;
  private final int initRetries;
  private Producer<String, byte[]> producer;
  private boolean ready;
  private boolean inTransaction;
  private volatile boolean stopping;

  /**
   * @param producers makes a producer (again, to replace a broken one)
   * @param initRetries times initTransactions is retried while it times out
   */
  public TransactionalSink(
      Supplier<Producer<String, byte[]>> producers,
      AvroSerde<ExtractionResult> results,
      String resultsTopic,
      String workerId,
      int initRetries) {
    this.producers = producers;
    this.resultSerde = results;
    this.resultsTopic = resultsTopic;
    this.workerId = workerId;
    this.initRetries = initRetries;
    this.producer = producers.get();
  }

  /**
   * Initialises transactions (fencing any earlier producer under this id), tried again while it
   * times out (the cluster unreachable); once per producer.
   */
  public void init() {
    for (int attempt = 1; !ready; attempt++) {
      try {
        producer.initTransactions();
        ready = true;
      } catch (TimeoutException e) {
        if (attempt > initRetries || stopping) {
          throw e;
        }
        LOG.warn(
            "worker {}: initTransactions timed out (attempt {}); trying again", workerId, attempt);
        Backoff.sleep(attempt);
      }
    }
  }

  /**
   * Commits one batch: its results, its dead letters and the consumed offsets (with their
   * metadata), in one transaction. On failure the transaction is ended (aborted, or the producer
   * replaced) and the error is rethrown for the poll loop to rewind.
   */
  public void commit(
      List<ExtractionResult> results,
      List<ProducerRecord<String, byte[]>> deadLetters,
      Map<TopicPartition, OffsetAndMetadata> offsets,
      Supplier<ConsumerGroupMetadata> group) {
    try {
      init();
      producer.beginTransaction();
      inTransaction = true;
      for (ExtractionResult r : results) {
        producer.send(
            new ProducerRecord<>(
                resultsTopic, r.getJobId(), resultSerde.serialize(resultsTopic, r)));
      }
      deadLetters.forEach(producer::send);
      producer.sendOffsetsToTransaction(offsets, group.get());
      producer.commitTransaction();
      inTransaction = false;
    } catch (RuntimeException e) {
      if (!FailurePolicy.isFatal(e)) {
        try {
          abortOrReplace();
        } catch (RuntimeException ending) {
          e.addSuppressed(ending); // the batch's own error is the one to report
        }
      }
      throw e;
    }
  }

  private void abortOrReplace() {
    if (!inTransaction) {
      return;
    }
    try {
      producer.abortTransaction();
      inTransaction = false;
      return;
    } catch (RuntimeException e) {
      if (FailurePolicy.isFatal(e)) {
        throw e;
      }
      LOG.warn("worker {}: abort failed ({}); replacing the producer", workerId, e.toString());
    }
    producer.close(Duration.ZERO);
    producer = producers.get();
    ready = false;
    inTransaction = false;
    init();
  }

  /** Stops retrying initTransactions (the worker is stopping); safe from any thread. */
  public void stop() {
    stopping = true;
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
