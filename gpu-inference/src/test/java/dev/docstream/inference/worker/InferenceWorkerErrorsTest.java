package dev.docstream.inference.worker;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

/** Which Kafka errors stop a worker, and which only fail (abort and retry) the batch. */
class InferenceWorkerErrorsTest {
  @Test
  void shouldStopOnlyWhenFencedOrUnauthorizedEvenWhenWrapped() {
    assertTrue(InferenceWorker.isFatal(new ProducerFencedException("newer producer")));
    assertTrue(
        InferenceWorker.isFatal(
            new KafkaException("send failed", new ProducerFencedException("x"))));
    assertTrue(InferenceWorker.isFatal(new FencedInstanceIdException("static member taken")));
    assertTrue(InferenceWorker.isFatal(new TopicAuthorizationException("no write")));
  }

  @Test
  void shouldRetryAnExpiredTransactionAndOtherKafkaErrors() {
    // The coordinator aborts a transaction older than transaction.timeout.ms and bumps the epoch;
    // abortTransaction() recovers the producer, so the worker retries the batch.
    assertFalse(
        InferenceWorker.isFatal(new InvalidProducerEpochException("transaction timed out")));
    assertFalse(
        InferenceWorker.isFatal(
            new KafkaException("wrapped", new InvalidProducerEpochException("x"))));
    assertFalse(InferenceWorker.isFatal(new TimeoutException("commit timed out")));
    assertFalse(
        InferenceWorker.isFatal(new IllegalStateException("abort refused after a commit timeout")));
  }
}
