package dev.docstream.inference.model.decoding;

import java.util.Arrays;

/**
 * How probable a text is under {@link OutputDecoder}'s frame rules: the sum over every frame path
 * that reads as the text (each character lasting minFrames to maxFrames frames, blanks between, a
 * repeat without a blank at {@link OutputDecoder#REPEAT_PENALTY}), where the path search keeps only
 * the best one. This is the forward pass of CTC on the decoder's topology.
 *
 * <p>Why: many paths read the same text (a glyph's edge frame may be blank or the glyph), so the
 * best path alone holds a small share of the text's probability, and a confidence made from it is
 * far too low (with the shipped adapters, whose fields read 97-99.5 % right, 62-81 % of the fields
 * scored under 0.5 that way; 9-24 % do with the sum). The sum is the probability of the reading
 * itself.
 *
 * <p>States for a text of n characters: {@code blank j}, a blank after j characters (j = 0..n), and
 * {@code (j, d)}, the d-th frame (from 0) of the j-th character.
 */
final class TextProbability {
  private static final double IMPOSSIBLE = Double.NEGATIVE_INFINITY;

  private TextProbability() {}

  /**
   * The log-probability that one field's {@code frames x C} logits at {@code offset} read as {@code
   * text} at {@code temperature}: the sum over the paths inside {@code window} (the frames outside
   * it blank), normalised. At a temperature other than 1 the field's logits and the repeat penalty
   * are divided by it first (see {@link OutputDecoder}); at 1 they are used as they are.
   */
  static double logProbability(
      float[] logits,
      int offset,
      int frames,
      FrameWindow window,
      String text,
      int minFrames,
      int maxFrames,
      double temperature) {
    if (temperature == 1) {
      return logProbability(
          logits, offset, window, text, minFrames, maxFrames, OutputDecoder.REPEAT_PENALTY);
    }
    float[] tempered = new float[frames * CharacterSet.CLASSES];
    for (int i = 0; i < tempered.length; i++) {
      tempered[i] = (float) (logits[offset + i] / temperature);
    }
    return logProbability(
        tempered,
        0,
        window.over(tempered, 0, frames),
        text,
        minFrames,
        maxFrames,
        OutputDecoder.REPEAT_PENALTY / temperature);
  }

  private static double logProbability(
      float[] logits,
      int offset,
      FrameWindow window,
      String text,
      int minFrames,
      int maxFrames,
      double repeatPenalty) {
    if (window.isEmpty()) {
      return text.isEmpty() ? window.outside() - window.normaliser() : IMPOSSIBLE;
    }
    double inside =
        logSum(
            logits,
            offset + window.lo() * CharacterSet.CLASSES,
            window.length(),
            text,
            minFrames,
            maxFrames,
            repeatPenalty);
    return inside + window.outside() - window.normaliser();
  }

  /**
   * The log of the summed, unnormalised scores (raw logits added per frame, as in the path search)
   * of every path through {@code frames x C} logits at {@code offset} that reads as {@code text};
   * minus infinity when none does.
   */
  static double logSum(
      float[] logits, int offset, int frames, String text, int minFrames, int maxFrames) {
    return logSum(logits, offset, frames, text, minFrames, maxFrames, OutputDecoder.REPEAT_PENALTY);
  }

  /** As above, a repeat without a blank costing {@code repeatPenalty} (the tempered penalty). */
  static double logSum(
      float[] logits,
      int offset,
      int frames,
      String text,
      int minFrames,
      int maxFrames,
      double repeatPenalty) {
    int classes = CharacterSet.CLASSES;
    int n = text.length();
    int[] cls = new int[n];
    for (int j = 0; j < n; j++) {
      cls[j] = CharacterSet.classOf(text.charAt(j));
    }
    double[] blank = new double[n + 1];
    double[] chars = new double[n * maxFrames]; // chars[j * maxFrames + d]
    double[] nextBlank = new double[n + 1];
    double[] nextChars = new double[n * maxFrames];
    double[] ended = new double[n]; // ended[j]: character j has lasted minFrames or more
    Arrays.fill(blank, IMPOSSIBLE);
    Arrays.fill(chars, IMPOSSIBLE);
    blank[0] = logits[offset + CharacterSet.BLANK];
    if (n > 0) {
      chars[0] = logits[offset + cls[0]];
    }
    for (int t = 1; t < frames; t++) {
      int frame = offset + t * classes;
      for (int j = 0; j < n; j++) {
        ended[j] = logSumExp(chars, j * maxFrames + minFrames - 1, j * maxFrames + maxFrames);
      }
      nextBlank[0] = blank[0] + logits[frame + CharacterSet.BLANK];
      for (int j = 1; j <= n; j++) {
        nextBlank[j] = logAdd(blank[j], ended[j - 1]) + logits[frame + CharacterSet.BLANK];
      }
      for (int j = 0; j < n; j++) {
        double enter = blank[j];
        if (j > 0) {
          enter = logAdd(enter, ended[j - 1] - (cls[j] == cls[j - 1] ? repeatPenalty : 0));
        }
        float logit = logits[frame + cls[j]];
        nextChars[j * maxFrames] = enter + logit;
        for (int d = 1; d < maxFrames; d++) {
          nextChars[j * maxFrames + d] = chars[j * maxFrames + d - 1] + logit;
        }
      }
      double[] swap = blank;
      blank = nextBlank;
      nextBlank = swap;
      swap = chars;
      chars = nextChars;
      nextChars = swap;
    }
    return n == 0
        ? blank[0]
        : logAdd(blank[n], logSumExp(chars, (n - 1) * maxFrames + minFrames - 1, n * maxFrames));
  }

  private static double logAdd(double a, double b) {
    if (a == IMPOSSIBLE) {
      return b;
    }
    if (b == IMPOSSIBLE) {
      return a;
    }
    double max = Math.max(a, b);
    return max + Math.log1p(Math.exp(Math.min(a, b) - max));
  }

  private static double logSumExp(double[] values, int from, int to) {
    double sum = IMPOSSIBLE;
    for (int i = from; i < to; i++) {
      sum = logAdd(sum, values[i]);
    }
    return sum;
  }
}
