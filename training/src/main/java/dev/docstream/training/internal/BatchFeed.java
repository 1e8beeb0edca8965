package dev.docstream.training.internal;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.IdentitySampler;
import dev.docstream.training.synth.SyntheticDocument;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Renders training batches on several threads and writes them as raw little-endian arrays, for a
 * trainer in another process (the GPU base trainer in {@code training/gpu/}). Batch {@code i} is
 * rendered from its own seed, so the stream depends only on the seed and the document types, not on
 * the thread count.
 *
 * <p>Record per batch: int32 magic {@link #MAGIC}, int32 batch size n, then float32 arrays pixels
 * (n x 1 x H x W), classes (n x F x T), weights (n x F x T), rows (n x gh x gw x F), as in {@link
 * BatchData}.
 */
public final class BatchFeed {
  /** Marks the start of every batch record ("DSB1"). */
  public static final int MAGIC = 0x31425344;

  private BatchFeed() {}

  /**
   * Renders one batch of documents of random types from {@code specs}, drawing everything from
   * {@code rnd} (also what {@link DocumentStream} renders with, one shared stream for all batches).
   */
  public static BatchData render(
      List<DocumentTypeSpec> specs, int batchSize, ModelConfig config, Random rnd) {
    List<SyntheticDocument> docs = new ArrayList<>(batchSize);
    for (int i = 0; i < batchSize; i++) {
      DocumentTypeSpec spec = specs.get(rnd.nextInt(specs.size()));
      docs.add(
          DocumentRenderer.render(
              spec, IdentitySampler.sample(spec, rnd), DocumentRenderer.Augmentation.MILD, rnd));
    }
    return BatchData.of(docs, config);
  }

  /**
   * Writes {@code batches} batches (forever when negative) to {@code out}, rendering on {@code
   * threads} threads, in batch order.
   */
  public static void write(
      List<String> documentTypes,
      int batchSize,
      ModelConfig config,
      long seed,
      int threads,
      long batches,
      OutputStream out)
      throws IOException, InterruptedException {
    List<DocumentTypeSpec> specs = documentTypes.stream().map(DocumentTypeSpec::forId).toList();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "batch-feed");
              t.setDaemon(true);
              return t;
            });
    ArrayDeque<Future<BatchData>> pending = new ArrayDeque<>();
    DataOutputStream data = new DataOutputStream(out);
    long next = 0;
    long written = 0;
    try {
      while (batches < 0 || written < batches) {
        while (pending.size() < 2 * threads && (batches < 0 || next < batches)) {
          long index = next++;
          pending.add(
              pool.submit(
                  () -> render(specs, batchSize, config, new Random(seed * 1_000_003L + index))));
        }
        BatchData b = pending.poll().get();
        writeBatch(b, data);
        written++;
      }
      data.flush();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("rendering a batch failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Writes a parity file: one batch record of {@code n} documents, then the logits (n x F x T x
   * classes, float32) that the Java model at {@code base} computes for it on the CPU. The GPU
   * trainer's {@code --check} compares its own logits with these.
   */
  public static void writeReference(
      java.nio.file.Path base, int n, long seed, java.nio.file.Path out) throws IOException {
    ModelConfig config = dev.docstream.inference.model.ModelCheckpoint.readConfig(base);
    List<DocumentTypeSpec> specs =
        dev.docstream.training.BaseTraining.baseTypes(300).stream()
            .map(DocumentTypeSpec::forId)
            .toList();
    BatchData batch = render(specs, n, config, new Random(seed));
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(ai.djl.Device.cpu());
        DataOutputStream data =
            new DataOutputStream(
                new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(out)))) {
      dev.docstream.inference.model.ExtractionModel block =
          new dev.docstream.inference.model.ExtractionModel(config);
      dev.docstream.inference.model.ModelCheckpoint.load(block, base, m);
      ai.djl.ndarray.NDArray x = m.create(batch.pixels(), block.inputShape(n));
      float[] logits =
          block
              .forward(
                  new ai.djl.training.ParameterStore(m, false), new ai.djl.ndarray.NDList(x), false)
              .get(0)
              .toFloatArray();
      writeBatch(batch, data);
      writeFloats(logits, data);
    }
  }

  private static void writeFloats(float[] a, DataOutputStream out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(a);
    out.write(buf.array());
  }

  private static void writeBatch(BatchData b, DataOutputStream out) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    head.putInt(MAGIC).putInt(b.size());
    out.write(head.array());
    for (float[] a : new float[][] {b.pixels(), b.classes(), b.weights(), b.rows()}) {
      writeFloats(a, out);
    }
  }
}
