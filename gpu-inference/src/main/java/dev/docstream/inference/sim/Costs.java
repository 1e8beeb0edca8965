package dev.docstream.inference.sim;

/**
 * The service-time model a simulation runs on: what the model costs on some machine, as {@code
 * docstream bench --part merge} measures it (or as given for a GPU).
 *
 * @param forward1Ms one forward pass of one image, an adapter merged
 * @param forward32Ms one forward pass of 32 images, an adapter merged; a batch of b costs the
 *     straight line through these two points
 * @param swapMs one adapter swap (exact restore + merge)
 * @param loadMs reading and uploading an adapter that is not in the cache
 * @param unmergedFactor forward time with the adapter unmerged ({@code W x + s B (A x)}) over
 *     merged
 */
public record Costs(
    double forward1Ms, double forward32Ms, double swapMs, double loadMs, double unmergedFactor) {
  public Costs {
    if (!(forward1Ms > 0) || !(forward32Ms >= forward1Ms) || swapMs < 0 || loadMs < 0) {
      throw new IllegalArgumentException(
          "costs need forward1Ms > 0, forward32Ms >= forward1Ms, swapMs >= 0 and loadMs >= 0: "
              + this);
    }
    if (!(unmergedFactor >= 1)) {
      throw new IllegalArgumentException("unmergedFactor must be >= 1, got " + unmergedFactor);
    }
  }

  /** One merged forward pass of {@code b} images. */
  public double forwardMs(int b) {
    return forward1Ms + (forward32Ms - forward1Ms) * (b - 1) / 31.0;
  }
}
