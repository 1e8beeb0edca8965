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
 * @param adapterMode how adapters are applied: merged per group, or hybrid
 * @param hybridMinGroup with {@link AdapterMode#HYBRID}: the smallest group that is merged
 */
public record EngineOptions(
    long cacheBytes,
    String baseModelId,
    String workerId,
    int microBatch,
    ExtractionEngine.MissingAdapterPolicy policy,
    long maxImagePixels,
    AdapterMode adapterMode,
    int hybridMinGroup) {
  /** Most pixels an image may declare by default: as intake's {@code intake.image.max.pixels}. */
  public static final long DEFAULT_MAX_IMAGE_PIXELS = 25_000_000L;

  /** How the engine applies adapters. */
  public enum AdapterMode {
    /** Each group's adapter merged into the weights, one swap between groups. */
    MERGED,
    /**
     * Groups of at least {@code hybridMinGroup} requests (and the merged adapter's) merged; the
     * rest run on the base weights in mixed micro-batches, every sample with its own adapter
     * unmerged ({@code PerSampleAdapters}), as dLoRA does.
     */
    HYBRID
  }

  /** 256 MiB of adapters, micro-batches of 32, REJECT, the default pixel limit, merged. */
  public static EngineOptions defaults(String baseModelId, String workerId) {
    return new EngineOptions(
        256L << 20,
        baseModelId,
        workerId,
        32,
        ExtractionEngine.MissingAdapterPolicy.REJECT,
        DEFAULT_MAX_IMAGE_PIXELS,
        AdapterMode.MERGED,
        8);
  }

  public EngineOptions withCacheBytes(long bytes) {
    return new EngineOptions(
        bytes,
        baseModelId,
        workerId,
        microBatch,
        policy,
        maxImagePixels,
        adapterMode,
        hybridMinGroup);
  }

  public EngineOptions withMicroBatch(int size) {
    return new EngineOptions(
        cacheBytes,
        baseModelId,
        workerId,
        size,
        policy,
        maxImagePixels,
        adapterMode,
        hybridMinGroup);
  }

  public EngineOptions withPolicy(ExtractionEngine.MissingAdapterPolicy p) {
    return new EngineOptions(
        cacheBytes,
        baseModelId,
        workerId,
        microBatch,
        p,
        maxImagePixels,
        adapterMode,
        hybridMinGroup);
  }

  public EngineOptions withMaxImagePixels(long pixels) {
    return new EngineOptions(
        cacheBytes, baseModelId, workerId, microBatch, policy, pixels, adapterMode, hybridMinGroup);
  }

  /** The adapter mode and, for HYBRID, the smallest group that is merged. */
  public EngineOptions withAdapterMode(AdapterMode mode, int minGroup) {
    if (minGroup < 1) {
      throw new IllegalArgumentException("the smallest merged group must be >= 1, got " + minGroup);
    }
    return new EngineOptions(
        cacheBytes, baseModelId, workerId, microBatch, policy, maxImagePixels, mode, minGroup);
  }
}
