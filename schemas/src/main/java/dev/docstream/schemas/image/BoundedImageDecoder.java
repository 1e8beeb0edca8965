package dev.docstream.schemas.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG and JPEG document photos, refusing any whose header declares more pixels than a limit
 * before a single pixel is decoded. A PNG of under 1 MB can declare 30000 x 30000 pixels (a
 * decompression bomb): decoding it whole takes gigabytes. Intake and the workers decode through
 * this one class, so both refuse the same images.
 */
public final class BoundedImageDecoder {
  private static final Set<String> FORMATS = Set.of("png", "jpeg");

  private final long maxPixels;

  /**
   * @param maxPixels most pixels (width x height) an image may declare
   */
  public BoundedImageDecoder(long maxPixels) {
    if (maxPixels < 1) {
      throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
    }
    this.maxPixels = maxPixels;
  }

  /** Why an image was refused. */
  public static final class RefusedImageException extends Exception {
    private final boolean tooLarge;

    RefusedImageException(boolean tooLarge, String message, Throwable cause) {
      super(message, cause);
      this.tooLarge = tooLarge;
    }

    /** True when the image declares more pixels than the limit; false when it does not decode. */
    public boolean tooLarge() {
      return tooLarge;
    }
  }

  /** The most pixels an image may declare. */
  public long maxPixels() {
    return maxPixels;
  }

  /** The decoded image. */
  public BufferedImage decode(byte[] bytes) throws RefusedImageException {
    return read(bytes, true);
  }

  /**
   * Checks an image without decoding its pixels: a PNG or JPEG whose header reads and declares no
   * more pixels than the limit. Costs a small fraction of {@link #decode} (intake's check); a
   * corrupt body passes it and is refused where the image is decoded.
   */
  public void checkHeader(byte[] bytes) throws RefusedImageException {
    read(bytes, false);
  }

  private BufferedImage read(byte[] bytes, boolean pixels) throws RefusedImageException {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      ImageReader reader = pngOrJpegReader(in);
      try {
        reader.setInput(in, true, true);
        long width = reader.getWidth(0);
        long height = reader.getHeight(0);
        if (width < 1 || height < 1) {
          throw new RefusedImageException(false, "image declares no pixels", null);
        }
        if (!pixels && width * height <= maxPixels) {
          return null;
        }
        if (width * height > maxPixels) {
          throw new RefusedImageException(
              true,
              "image declares "
                  + width
                  + " x "
                  + height
                  + " = "
                  + (width * height)
                  + " pixels, limit "
                  + maxPixels,
              null);
        }
        BufferedImage image = reader.read(0);
        if (image == null) {
          throw new RefusedImageException(false, "image could not be decoded", null);
        }
        return image;
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      // ImageIO reports corrupt data with IOException and assorted runtime exceptions
      throw new RefusedImageException(
          false, "image could not be decoded: " + e.getClass().getSimpleName(), e);
    }
  }

  private static ImageReader pngOrJpegReader(ImageInputStream in)
      throws IOException, RefusedImageException {
    if (in == null) {
      throw new RefusedImageException(false, "image could not be read", null);
    }
    Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
    while (readers.hasNext()) {
      ImageReader reader = readers.next();
      if (FORMATS.contains(reader.getFormatName().toLowerCase(Locale.ROOT))) {
        return reader;
      }
      reader.dispose();
    }
    throw new RefusedImageException(false, "not a PNG or JPEG image", null);
  }
}
