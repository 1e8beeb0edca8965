package dev.docstream.inference.model;

import dev.docstream.schemas.image.BoundedImageDecoder;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Turns a document photo into the model's input: decoded, resized to the model's size, grey,
 * normalised to zero mean and unit-ish variance.
 */
public final class ImagePreprocessor {
  private final int height;
  private final int width;

  public ImagePreprocessor(ModelConfig config) {
    this.height = config.imageHeight();
    this.width = config.imageWidth();
  }

  /** Thrown when image bytes are not a PNG or JPEG the JDK can decode. */
  public static final class UnreadableImageException extends Exception {
    UnreadableImageException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static final BoundedImageDecoder DECODER = new BoundedImageDecoder(25_000_000L);

  /**
   * Decodes PNG or JPEG bytes that declare at most 25 M pixels (the worker decodes through its
   * engine's configured {@link BoundedImageDecoder}; this is for tools and benchmarks).
   */
  public static BufferedImage decode(byte[] bytes) throws UnreadableImageException {
    try {
      return DECODER.decode(bytes);
    } catch (BoundedImageDecoder.RefusedImageException e) {
      throw new UnreadableImageException(e.getMessage(), e);
    }
  }

  /** Writes the normalised pixels of one image into {@code out} at {@code offset} (H*W floats). */
  public void toInput(BufferedImage image, float[] out, int offset) {
    BufferedImage grey = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = grey.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(image, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    byte[] pixels = new byte[width * height];
    grey.getRaster().getDataElements(0, 0, width, height, pixels);
    for (int i = 0; i < pixels.length; i++) {
      out[offset + i] = ((pixels[i] & 0xff) / 255f - 0.5f) * 4f;
    }
  }

  /** Floats per image. */
  public int inputSize() {
    return height * width;
  }
}
