package dev.docstream.inference.worker;

import java.time.Duration;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The worker's keys for forming batches across polls; part of {@link WorkerConfig}'s definition.
 */
public final class SchedulingKeys {
  public static final String MAX_BATCH_DELAY_MS_CONFIG = "worker.batch.max.delay.ms";
  public static final String MODEL_THREADS_CONFIG = "inference.model.threads";

  private SchedulingKeys() {}

  static ConfigDef define(ConfigDef def) {
    return def.define(
            MAX_BATCH_DELAY_MS_CONFIG,
            Type.LONG,
            50L,
            ConfigDef.Range.between(0, 60_000),
            Importance.MEDIUM,
            "The longest a polled job waits for its adapter's micro-batch to fill (0: never waits); "
                + "a full micro-batch runs at once.")
        .define(
            MODEL_THREADS_CONFIG,
            Type.INT,
            0,
            ConfigDef.Range.between(0, 1024),
            Importance.LOW,
            "PyTorch's intra-op threads for the forward pass, for the whole process (0: PyTorch's"
                + " default, one per core); where a broker and intake share the cores, fewer"
                + " leaves them room.");
  }

  /** Sets PyTorch's intra-op threads if configured; returns the number in use. */
  static int applyModelThreads(WorkerConfig config) {
    int n = config.getInt(MODEL_THREADS_CONFIG);
    if (n > 0) {
      ai.djl.pytorch.jni.JniUtils.setNumThreads(n);
    }
    return ai.djl.pytorch.jni.JniUtils.getNumThreads();
  }

  /** The configured max batch delay. */
  static Duration maxBatchDelay(WorkerConfig config) {
    return Duration.ofMillis(config.getLong(MAX_BATCH_DELAY_MS_CONFIG));
  }
}
