package dev.docstream.inference.engine;

import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.image.BoundedImageDecoder;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The images of a batch's requests, decoded and preprocessed (scaled, normalised into the model's
 * input) ahead on another thread than the model's ({@link ExtractionEngine#decodeAhead}), or
 * decoded when asked for ({@link #inline}). An image that does not decode is kept as its refusal,
 * so the job fails with its reason when its group runs.
 */
public final class DecodedImages {
  private final BoundedImageDecoder decoder;

  /** By request (identity): the image, or the refusal. */
  private final Map<ExtractionRequest, Object> ahead;

  /** By image (identity): its model input, preprocessed ahead. */
  private final Map<BufferedImage, float[]> inputs;

  /** Whether the images were decoded ahead ({@link #decode}) rather than when asked for. */
  private final boolean decodedAhead;

  private DecodedImages(
      BoundedImageDecoder decoder,
      Map<ExtractionRequest, Object> ahead,
      Map<BufferedImage, float[]> inputs,
      boolean decodedAhead) {
    this.decoder = decoder;
    this.ahead = ahead;
    this.inputs = inputs;
    this.decodedAhead = decodedAhead;
  }

  /** Whether the images were decoded ahead, on another thread (their time counted there). */
  boolean ahead() {
    return decodedAhead;
  }

  /** Nothing decoded ahead: each image is decoded when its group runs. */
  static DecodedImages inline(BoundedImageDecoder decoder) {
    return new DecodedImages(decoder, Map.of(), Map.of(), false);
  }

  /** Decodes and preprocesses every request's image now, on the calling thread. */
  static DecodedImages decode(
      BoundedImageDecoder decoder, ImagePreprocessor pre, List<ExtractionRequest> requests) {
    Map<ExtractionRequest, Object> out = new IdentityHashMap<>();
    Map<BufferedImage, float[]> inputs = new IdentityHashMap<>();
    for (ExtractionRequest r : requests) {
      try {
        BufferedImage image = decoder.decode(bytes(r));
        float[] input = new float[pre.inputSize()];
        pre.toInput(image, input, 0);
        out.put(r, image);
        inputs.put(image, input);
      } catch (BoundedImageDecoder.RefusedImageException e) {
        out.put(r, e);
      } catch (RuntimeException e) {
        // Not foreseen (an odd colour model?): left out, so the engine decodes it when its group
        // runs, where such an error fails the job alone as PROCESSING_FAILED.
      }
    }
    return new DecodedImages(decoder, out, inputs, true);
  }

  /** An image's model input if it was preprocessed ahead, else null. */
  float[] input(BufferedImage image) {
    return inputs.get(image);
  }

  /** The request's image: decoded ahead, or now. */
  public BufferedImage get(ExtractionRequest r) throws BoundedImageDecoder.RefusedImageException {
    Object got = ahead.get(r);
    if (got instanceof BufferedImage image) {
      return image;
    }
    if (got instanceof BoundedImageDecoder.RefusedImageException refused) {
      throw refused;
    }
    return decoder.decode(bytes(r));
  }

  private static byte[] bytes(ExtractionRequest r) {
    ByteBuffer d = r.getImage().duplicate();
    byte[] bytes = new byte[d.remaining()];
    d.get(bytes);
    return bytes;
  }
}
