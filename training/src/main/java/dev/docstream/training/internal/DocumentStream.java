package dev.docstream.training.internal;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.synth.DocumentTypeSpec;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Renders training batches on a background thread while the model trains on the previous ones. The
 * sequence of batches depends only on the seed and the document types.
 */
public final class DocumentStream implements AutoCloseable {
  private final BlockingQueue<BatchData> queue = new ArrayBlockingQueue<>(3);
  private final Thread producer;
  private volatile boolean closed;

  public DocumentStream(List<String> documentTypes, int batchSize, ModelConfig config, long seed) {
    List<DocumentTypeSpec> specs = documentTypes.stream().map(DocumentTypeSpec::forId).toList();
    producer =
        new Thread(
            () -> {
              Random rnd = new Random(seed);
              try {
                while (!closed) {
                  queue.put(BatchFeed.render(specs, batchSize, config, rnd));
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
