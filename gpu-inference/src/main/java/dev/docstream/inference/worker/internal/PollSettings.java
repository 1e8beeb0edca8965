package dev.docstream.inference.worker.internal;

import java.time.Duration;

/**
 * What the worker's {@link PollLoop} needs to know.
 *
 * @param replayTopic the replay lane, or null for none
 * @param replayBatchRecords the largest replay batch: a live job arriving meanwhile waits at most
 *     one of them
 * @param replayShare the most of the inference thread's time replay batches may take, in (0, 1]
 * @param microBatch images per forward pass: a live queue this long runs without waiting
 * @param maxBatchDelay the longest a live record waits for its micro-batch to fill
 */
public record PollSettings(
    String workerId,
    String topic,
    Duration pollTimeout,
    int batchRecords,
    int bufferRecords,
    int maxFailures,
    String replayTopic,
    int replayBatchRecords,
    double replayShare,
    int microBatch,
    Duration maxBatchDelay) {
  /** Without a replay lane; every record runs as soon as the inference thread is free. */
  public PollSettings(
      String workerId,
      String topic,
      Duration pollTimeout,
      int batchRecords,
      int bufferRecords,
      int maxFailures) {
    this(
        workerId,
        topic,
        pollTimeout,
        batchRecords,
        bufferRecords,
        maxFailures,
        null,
        0,
        1,
        1,
        Duration.ZERO);
  }
}
