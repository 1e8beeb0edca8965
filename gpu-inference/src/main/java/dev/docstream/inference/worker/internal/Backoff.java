package dev.docstream.inference.worker.internal;

/** Exponential backoff between retries: 200 ms, 400 ms, ... up to 5 s. */
final class Backoff {
  private Backoff() {}

  static void sleep(int attempt) {
    try {
      Thread.sleep(Math.min(5_000, 100L << Math.min(attempt, 6)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
