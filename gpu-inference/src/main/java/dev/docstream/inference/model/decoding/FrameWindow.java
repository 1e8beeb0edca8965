package dev.docstream.inference.model.decoding;

/**
 * The stretch of a field's frames that the searches run over ({@code lo} to {@code hi}, one frame
 * of margin; empty when every frame is clearly blank), the blank score of the frames outside it,
 * and the sum of every frame's log-normaliser.
 *
 * <p>Every path pays each frame's log-normaliser once, so the searches add raw logits and the
 * normalisers are subtracted at the end. Frames where blank beats every character by {@link
 * #CLEAR_BLANK} nats are blank on any path worth having: the searches run only between the first
 * and the last other frame (a field is a short stretch of a wide line, so this is most of the work
 * saved).
 */
record FrameWindow(int lo, int hi, double outside, double normaliser) {
  /** Nats by which blank must beat every character for a frame to be left out of the search. */
  static final float CLEAR_BLANK = 12f;

  /** The window of one field's {@code frames x C} logits at {@code offset}. */
  static FrameWindow of(float[] logits, int offset, int frames) {
    int classes = CharacterSet.CLASSES;
    double normaliser = 0;
    int lo = -1;
    int hi = -1;
    for (int t = 0; t < frames; t++) {
      int frame = offset + t * classes;
      normaliser += logSumExp(logits, frame, classes);
      if (!clearlyBlank(logits, frame, classes)) {
        lo = lo < 0 ? t : lo;
        hi = t;
      }
    }
    if (lo < 0) {
      return new FrameWindow(-1, -1, blankScore(logits, offset, 0, frames), normaliser);
    }
    lo = Math.max(0, lo - 1);
    hi = Math.min(frames - 1, hi + 1);
    return new FrameWindow(
        lo,
        hi,
        blankScore(logits, offset, 0, lo) + blankScore(logits, offset, hi + 1, frames),
        normaliser);
  }

  /**
   * This window's stretch over other logits of the same field (its logits divided by a
   * temperature), with their outside score and normaliser. The stretch is kept rather than found
   * again: the best path was searched in it, so the text it read fits in it at any temperature.
   */
  FrameWindow over(float[] logits, int offset, int frames) {
    int classes = CharacterSet.CLASSES;
    double sum = 0;
    for (int t = 0; t < frames; t++) {
      sum += logSumExp(logits, offset + t * classes, classes);
    }
    double out =
        isEmpty()
            ? blankScore(logits, offset, 0, frames)
            : blankScore(logits, offset, 0, lo) + blankScore(logits, offset, hi + 1, frames);
    return new FrameWindow(lo, hi, out, sum);
  }

  boolean isEmpty() {
    return lo < 0;
  }

  int length() {
    return hi - lo + 1;
  }

  private static boolean clearlyBlank(float[] logits, int frame, int classes) {
    float blank = logits[frame + CharacterSet.BLANK] - CLEAR_BLANK;
    for (int c = 1; c < classes; c++) {
      if (logits[frame + c] > blank) {
        return false;
      }
    }
    return true;
  }

  private static double blankScore(float[] logits, int offset, int fromFrame, int toFrame) {
    double sum = 0;
    for (int t = fromFrame; t < toFrame; t++) {
      sum += logits[offset + t * CharacterSet.CLASSES + CharacterSet.BLANK];
    }
    return sum;
  }

  /** log(sum(exp(logits))) over one frame; classes far below the best add nothing measurable. */
  private static double logSumExp(float[] logits, int offset, int classes) {
    float max = Float.NEGATIVE_INFINITY;
    for (int c = 0; c < classes; c++) {
      max = Math.max(max, logits[offset + c]);
    }
    double sum = 0;
    for (int c = 0; c < classes; c++) {
      float d = logits[offset + c] - max;
      if (d > -20) {
        sum += Math.exp(d);
      }
    }
    return max + Math.log(sum);
  }
}
