package dev.docstream.inference.engine;

/**
 * The engine's settings.
 *
 * @param cacheBytes byte budget of the adapter cache
 * @param baseModelId id of the base model, written into every result
 * @param workerId written into every result
 * @param microBatch images per forward pass
 * @param policy what to do with a document type that has no adapter
 * @param maxImagePixels most pixels an image may declare; more fails the job as IMAGE_TOO_LARGE
 *     before it is decoded
 */
public record EngineOptions(
    long cacheBytes,
    String baseModelId,
    String workerId,
    int microBatch,
    ExtractionEngine.MissingAdapterPolicy policy,
    long maxImagePixels) {
  /** Most pixels an image may declare by default: as intake's {@code intake.image.max.pixels}. */
  public static final long DEFAULT_MAX_IMAGE_PIXELS = 25_000_000L;

  /** 256 MiB of adapters, micro-batches of 32, REJECT, the default pixel limit. */
  public static EngineOptions defaults(String baseModelId, String workerId) {
    return new EngineOptions(
        256L << 20,
        baseModelId,
        workerId,
        32,
        ExtractionEngine.MissingAdapterPolicy.REJECT,
        DEFAULT_MAX_IMAGE_PIXELS);
  }

  public EngineOptions withCacheBytes(long bytes) {
    return new EngineOptions(bytes, baseModelId, workerId, microBatch, policy, maxImagePixels);
  }

  public EngineOptions withMicroBatch(int size) {
    return new EngineOptions(cacheBytes, baseModelId, workerId, size, policy, maxImagePixels);
  }

  public EngineOptions withPolicy(ExtractionEngine.MissingAdapterPolicy p) {
    return new EngineOptions(cacheBytes, baseModelId, workerId, microBatch, p, maxImagePixels);
  }

  public EngineOptions withMaxImagePixels(long pixels) {
    return new EngineOptions(cacheBytes, baseModelId, workerId, microBatch, policy, pixels);
  }
}
