package dev.docstream.training.synth;

import dev.docstream.schemas.DocumentField;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * One rendered document: the image, the identity printed on it, and where each printed character
 * is, which the model's training uses as dense supervision.
 */
public record SyntheticDocument(
    String documentType,
    BufferedImage image,
    Identity identity,
    Map<DocumentField, PrintedField> printed) {

  /**
   * The text printed for a field (upper-cased) and the horizontal centre of each of its characters
   * as a share of the image width, after augmentation.
   */
  public record PrintedField(String text, double[] charCentersX, double centerY) {}

  /** The image as PNG bytes, as a client would send it. */
  public byte[] png() {
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      ImageIO.write(image, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding failed", e);
    }
  }
}
