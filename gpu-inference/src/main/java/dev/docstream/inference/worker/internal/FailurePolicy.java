package dev.docstream.inference.worker.internal;

import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;

/** Which errors a worker must stop on. */
public final class FailurePolicy {
  private FailurePolicy() {}

  /**
   * Errors after which this worker must not write again: another producer owns its transactional id
   * now, another consumer its static membership, or it lacks rights (also when wrapped, as send()
   * wraps them). An expired transaction (the coordinator aborted it after transaction.timeout.ms,
   * say after a stall) is not one of them: it surfaces as InvalidProducerEpochException, and
   * abortTransaction() re-initialises the producer under a bumped epoch, so the batch is retried
   * like any other failed transaction.
   */
  public static boolean isFatal(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ProducerFencedException
          || t instanceof FencedInstanceIdException
          || t instanceof AuthorizationException) {
        return true;
      }
    }
    return false;
  }
}
