package dev.docstream.training.internal;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.synth.DocumentTypeSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Renders training batches on a background thread while the model trains on the previous ones. The
 * sequence of batches depends only on the seed, the document types and the reviewed samples.
 */
public final class DocumentStream implements AutoCloseable {
  /** Added to the seed for the order the reviewed samples are cycled in. */
  private static final long REVIEWED_ORDER_SALT = 0x5245564945574544L;

  private final BlockingQueue<BatchData> queue = new ArrayBlockingQueue<>(3);
  private final Thread producer;
  private volatile boolean closed;

  /** Batches of synthetic documents only. */
  public DocumentStream(List<String> documentTypes, int batchSize, ModelConfig config, long seed) {
    this(documentTypes, batchSize, config, seed, List.of(), 0);
  }

  /**
   * Batches of {@code batchSize - reviewedPerBatch} synthetic documents followed by {@code
   * reviewedPerBatch} of the {@code reviewed} samples, cycled: every sample once per pass, each
   * pass in a new order. With no reviewed samples the batches are the synthetic-only stream's.
   *
   * @throws IllegalArgumentException unless {@code 0 <= reviewedPerBatch < batchSize}, and reviewed
   *     samples are given exactly when some are asked for per batch
   */
  public DocumentStream(
      List<String> documentTypes,
      int batchSize,
      ModelConfig config,
      long seed,
      List<ReviewedTargets.Sample> reviewed,
      int reviewedPerBatch) {
    if (reviewedPerBatch < 0
        || reviewedPerBatch >= batchSize
        || reviewed.isEmpty() != (reviewedPerBatch == 0)) {
      throw new IllegalArgumentException(
          "a batch of "
              + batchSize
              + " cannot hold "
              + reviewedPerBatch
              + " of "
              + reviewed.size()
              + " reviewed documents and a synthetic one");
    }
    List<DocumentTypeSpec> specs = documentTypes.stream().map(DocumentTypeSpec::forId).toList();
    int synthetic = batchSize - reviewedPerBatch;
    List<ReviewedTargets.Sample> order = new ArrayList<>(reviewed);
    producer =
        new Thread(
            () -> {
              Random rnd = new Random(seed);
              Random shuffle = new Random(seed + REVIEWED_ORDER_SALT);
              int next = order.size();
              try {
                while (!closed) {
                  BatchData batch = BatchFeed.render(specs, synthetic, config, rnd);
                  if (reviewedPerBatch > 0) {
                    List<ReviewedTargets.Sample> take = new ArrayList<>(reviewedPerBatch);
                    while (take.size() < reviewedPerBatch) {
                      if (next == order.size()) {
                        Collections.shuffle(order, shuffle);
                        next = 0;
                      }
                      take.add(order.get(next++));
                    }
                    batch = batch.withReviewed(take, config);
                  }
                  queue.put(batch);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "document-stream");
    producer.setDaemon(true);
    producer.start();
  }

  /** The next batch, waiting for the renderer if needed. */
  public BatchData next() throws InterruptedException {
    return queue.take();
  }

  @Override
  public void close() {
    closed = true;
    producer.interrupt();
  }
}
