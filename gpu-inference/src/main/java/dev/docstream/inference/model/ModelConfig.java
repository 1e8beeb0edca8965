package dev.docstream.inference.model;

/**
 * The shape of the extraction model. The image is cut into a grid of tokens by a stride-8
 * convolutional stem; each token column yields {@code framesPerColumn} character frames per field.
 *
 * @param imageHeight input height in pixels (a multiple of 8)
 * @param imageWidth input width in pixels (a multiple of 8)
 * @param stemChannels channels of the first two stem convolutions
 * @param dim token width d
 * @param heads attention heads (d must divide by it)
 * @param mlpRatio hidden width of each MLP as a multiple of d
 * @param encoderLayers transformer encoder layers over the token grid
 * @param framesPerColumn character frames each token column emits, per field
 */
public record ModelConfig(
    int imageHeight,
    int imageWidth,
    int[] stemChannels,
    int dim,
    int heads,
    int mlpRatio,
    int encoderLayers,
    int framesPerColumn) {

  /** The shipped model: 96 x 192 grey images, 12 x 24 tokens of width 96, 3 encoder layers. */
  public static ModelConfig standard() {
    return new ModelConfig(96, 192, new int[] {16, 48}, 96, 4, 3, 3, 4);
  }

  /** A small configuration for fast tests. */
  public static ModelConfig tiny() {
    return new ModelConfig(32, 64, new int[] {4, 8}, 16, 2, 2, 1, 2);
  }

  /**
   * The extraction model's design at ViT-B scale (width 768, 12 heads, 12 encoder layers, MLP x4)
   * on the shipped model's 96 x 192 document images: about 97 M parameters. For benchmarks of merge
   * cost at the scale the system is for; built with random weights, never trained here.
   */
  public static ModelConfig vitB() {
    return new ModelConfig(96, 192, new int[] {128, 384}, 768, 12, 4, 12, 4);
  }

  /** As {@link #vitB()} at ViT-S width (384, 6 heads): about 25 M parameters. */
  public static ModelConfig vitS() {
    return new ModelConfig(96, 192, new int[] {64, 192}, 384, 6, 4, 12, 4);
  }

  /**
   * A configuration by name: {@code standard}, {@code tiny}, {@code vit-s} or {@code vit-b}.
   *
   * @throws IllegalArgumentException naming the accepted names for any other
   */
  public static ModelConfig named(String name) {
    return switch (name) {
      case "standard" -> standard();
      case "tiny" -> tiny();
      case "vit-s" -> vitS();
      case "vit-b" -> vitB();
      default ->
          throw new IllegalArgumentException(
              "unknown model '" + name + "': use standard, tiny, vit-s or vit-b");
    };
  }

  /** Token rows. */
  public int gridHeight() {
    return imageHeight / 8;
  }

  /** Token columns. */
  public int gridWidth() {
    return imageWidth / 8;
  }

  /** Character frames per field: token columns x frames per column. */
  public int frames() {
    return gridWidth() * framesPerColumn;
  }

  /** Fails fast on a configuration the model cannot be built with. */
  public ModelConfig validate() {
    if (imageHeight % 8 != 0 || imageWidth % 8 != 0 || imageHeight <= 0 || imageWidth <= 0) {
      throw new IllegalArgumentException(
          "image size must be positive multiples of 8, got " + imageHeight + "x" + imageWidth);
    }
    if (dim % heads != 0) {
      throw new IllegalArgumentException("dim " + dim + " must be divisible by heads " + heads);
    }
    if (stemChannels.length != 2 || encoderLayers < 1 || framesPerColumn < 1 || mlpRatio < 1) {
      throw new IllegalArgumentException("invalid model configuration " + this);
    }
    return this;
  }

  @Override
  public String toString() {
    return "ModelConfig["
        + imageHeight
        + "x"
        + imageWidth
        + ", stem="
        + stemChannels[0]
        + "/"
        + stemChannels[1]
        + ", dim="
        + dim
        + ", heads="
        + heads
        + ", mlpRatio="
        + mlpRatio
        + ", encoderLayers="
        + encoderLayers
        + ", framesPerColumn="
        + framesPerColumn
        + "]";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelConfig c && c.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }
}
