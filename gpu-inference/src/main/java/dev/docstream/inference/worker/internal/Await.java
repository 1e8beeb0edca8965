package dev.docstream.inference.worker.internal;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for the worker's batches. */
final class Await {
  private Await() {}

  /**
   * Waits for a batch to end and returns its failure, or null. An interrupt does not cut the wait
   * short (a batch left running could commit after a rewind); it is kept for the caller.
   */
  static Throwable failure(Future<?> done) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          done.get();
          return null;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          return e.getCause();
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
