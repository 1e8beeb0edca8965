package dev.docstream.inference.model.decoding;

import dev.docstream.adapters.FieldFormat;
import dev.docstream.schemas.DocumentField;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the model's frame logits as text: the most probable frame path in which every character
 * lasts {@link #MIN_CHARACTER_FRAMES} to {@link #MAX_CHARACTER_FRAMES} frames, read like CTC output
 * (a character is emitted when the path enters it; blanks separate repeats).
 *
 * <p>Why not the best class per frame: a frame that straddles two glyphs often scores a third
 * character highest for that one frame ("UUOGZZ" for "UZ"), and per-frame argmax turns each such
 * frame into an inserted character; and the blank between two equal glyphs is often missing
 * ("SSSSSS" for "SS"), which merges them. Training labels every glyph's core over two frames or
 * more and a glyph is about 3 frames wide, so the path search (Viterbi over blank and per-character
 * duration states) absorbs one-frame characters into their neighbours and reads a run longer than
 * {@link #MAX_CHARACTER_FRAMES} as a repeated character, at a cost of {@link #REPEAT_PENALTY} nats
 * so that a blank frame, where there is one, is the preferred separator.
 *
 * <p>Measured on the previous shipped base with its adapters, 96 test documents (seed 99) each of
 * GBR-PASSPORT-2000, NLD-ID-CARD-2024, CZE-DRIVING-LICENCE-2008 and BGR-ID-CARD-2004, field
 * exact-match: per-frame argmax 52.7, 54.5, 39.4, 45.1 %; 2 frames minimum, no maximum 62.6, 64.0,
 * 55.5 % (BGR not run); 2 to 4 frames 68.5, 71.1, 61.5, 57.9 %; 2 to 5 frames 68.5, 68.8, 57.4,
 * 55.8 %; 2 to 3 frames 45.2, 59.8, 54.5, 56.5 %.
 *
 * <p>A field with a known {@link FieldFormat} (a document type's number format, carried by its
 * adapter) is read as the most probable path whose text fits the format: a letter where the format
 * has a letter, a digit where it has a digit, exactly as many characters ({@link FormatSearch}).
 * Where no such path fits the frames, the field is read without the format.
 *
 * <p>A field's confidence is the probability of the text read, summed over every path that reads as
 * it ({@link TextProbability}), not the best path's own probability.
 *
 * <p>That probability is conservative (with the shipped adapters only 32-53 % of the fields reached
 * 0.9 though 97-99 % were right), so each adapter carries a temperature T fitted on held-out
 * documents ({@code docstream_confidence_temperature}) and the confidence is the text's probability
 * at T: every path's score, its frame logits and its repeat penalties alike, divided by T, and each
 * frame's normaliser taken over its logits divided by T (a softmax at temperature T). This is
 * temperature scaling where the probability is made, rather than of the field confidence's log-odds
 * afterwards ({@code sigmoid(logit(p) / T)}): it costs one more pass over the field's frames, it is
 * defined for every field (a confidence of exactly 0 or 1 has no log-odds), and it keeps the paths
 * that share a text summed as the model's own distribution sums them. Dividing every path's whole
 * score by the same T leaves the order of the paths unchanged, so the text read (the best path, and
 * the best path of a format) is the same at every T: T changes the confidence only. At T = 1 the
 * computation is the untempered one, bit for bit.
 *
 * <p>Measured on the shipped adapters (T fitted on 128 documents of seed 61, scored on 200 of seed
 * 99): the expected calibration error fell from 0.17-0.29 to 0.07-0.17, where the log-odds form,
 * fitted the same way, reached 0.12-0.30 (worse than untempered on four types of eight). The price:
 * unlike the log-odds form, T reorders fields (a glyph misread clearly gains with the right
 * fields), so the confidence ranks misreads a little worse (AUROC 0.004-0.037 lower).
 */
public final class OutputDecoder {
  /** Fewest consecutive frames a character is read from. */
  public static final int MIN_CHARACTER_FRAMES = 2;

  /** Most consecutive frames one character is read from; a longer run is a repeated character. */
  public static final int MAX_CHARACTER_FRAMES = 4;

  /** Log-probability cost of reading a repeated character without a blank frame between. */
  public static final double REPEAT_PENALTY = 1.5;

  private static final DocumentField[] FIELDS = DocumentField.values();
  private static final double IMPOSSIBLE = Double.NEGATIVE_INFINITY;

  private OutputDecoder() {}

  /** A decoded frame sequence: the text and the log-probability of its frame path. */
  record Path(String text, double logProbability) {}

  /**
   * Decodes a batch of logits laid out as {@code (B, F, T, C)}.
   *
   * @return one map per image, every field present
   */
  public static List<Map<DocumentField, FieldReading>> decode(
      float[] logits, int batch, int frames) {
    return decode(logits, batch, frames, Map.of());
  }

  /**
   * Decodes a batch of logits laid out as {@code (B, F, T, C)}, reading each field that has a
   * format in {@code formats} as text of that format.
   *
   * @return one map per image, every field present
   */
  public static List<Map<DocumentField, FieldReading>> decode(
      float[] logits, int batch, int frames, Map<DocumentField, FieldFormat> formats) {
    return decode(logits, batch, frames, formats, 1);
  }

  /**
   * Decodes a batch of logits laid out as {@code (B, F, T, C)}, reading each field that has a
   * format in {@code formats} as text of that format, each confidence at {@code temperature} (the
   * adapter's calibration; 1 for the model's own probability). The texts read do not depend on the
   * temperature.
   *
   * @return one map per image, every field present
   * @throws IllegalArgumentException if {@code temperature} is not a positive finite number
   */
  public static List<Map<DocumentField, FieldReading>> decode(
      float[] logits,
      int batch,
      int frames,
      Map<DocumentField, FieldFormat> formats,
      double temperature) {
    if (!(temperature > 0 && temperature < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(
          "confidence temperature must be a positive number, got " + temperature);
    }
    int classes = CharacterSet.CLASSES;
    List<Map<DocumentField, FieldReading>> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      Map<DocumentField, FieldReading> fields = new EnumMap<>(DocumentField.class);
      for (int f = 0; f < FIELDS.length; f++) {
        int offset = (b * FIELDS.length + f) * frames * classes;
        FrameWindow window = FrameWindow.of(logits, offset, frames);
        Path path =
            bestPath(
                logits,
                offset,
                window,
                MIN_CHARACTER_FRAMES,
                MAX_CHARACTER_FRAMES,
                formats.get(FIELDS[f]));
        String value = FieldNormalizer.normalize(FIELDS[f], path.text());
        double confidence =
            value == null
                ? 0
                : Math.min(
                    1,
                    Math.exp(
                        TextProbability.logProbability(
                            logits,
                            offset,
                            frames,
                            window,
                            path.text(),
                            MIN_CHARACTER_FRAMES,
                            MAX_CHARACTER_FRAMES,
                            temperature)));
        fields.put(
            FIELDS[f],
            new FieldReading(value == null ? path.text().trim() : value, path.text(), confidence));
      }
      out.add(fields);
    }
    return out;
  }

  /**
   * The most probable path through one field's frames ({@code frames x C} logits starting at {@code
   * offset}) in which each character lasts {@code minFrames} to {@code maxFrames} frames.
   *
   * <p>States: 0 is blank (any length); character class c (1..C-1) has one state per frame of its
   * duration, 1st to {@code maxFrames}-th. A character can end once it has lasted {@code
   * minFrames}; it is entered from blank, from another character that can end, or from itself (a
   * repeat without a blank, at {@link #REPEAT_PENALTY}).
   */
  static Path bestPath(float[] logits, int offset, int frames, int minFrames, int maxFrames) {
    return bestPath(logits, offset, frames, minFrames, maxFrames, null);
  }

  /**
   * As {@link #bestPath(float[], int, int, int, int)}, the text fitting {@code format} where one is
   * given.
   */
  static Path bestPath(
      float[] logits, int offset, int frames, int minFrames, int maxFrames, FieldFormat format) {
    return bestPath(
        logits, offset, FrameWindow.of(logits, offset, frames), minFrames, maxFrames, format);
  }

  private static Path bestPath(
      float[] logits,
      int offset,
      FrameWindow window,
      int minFrames,
      int maxFrames,
      FieldFormat format) {
    if (window.isEmpty()) {
      return new Path("", window.outside() - window.normaliser());
    }
    int classes = CharacterSet.CLASSES;
    int start = offset + window.lo() * classes;
    Path inside =
        format == null
            ? null
            : FormatSearch.search(logits, start, window.length(), minFrames, maxFrames, format);
    if (inside == null) {
      inside = search(logits, start, window.length(), minFrames, maxFrames);
    }
    return new Path(
        inside.text(), inside.logProbability() + window.outside() - window.normaliser());
  }

  /**
   * The log-probability that one field's frames ({@code frames x C} logits at {@code offset}) read
   * as {@code text}: summed over every path that reads so ({@link TextProbability}), where {@link
   * #bestPath} keeps the best one. This is what a field's confidence is made of.
   */
  static double textLogProbability(
      float[] logits, int offset, int frames, String text, int minFrames, int maxFrames) {
    return textLogProbability(logits, offset, frames, text, minFrames, maxFrames, 1);
  }

  /**
   * As {@link #textLogProbability(float[], int, int, String, int, int)}, at {@code temperature}:
   * the field's logits and the repeat penalty divided by it (see the class comment).
   */
  static double textLogProbability(
      float[] logits,
      int offset,
      int frames,
      String text,
      int minFrames,
      int maxFrames,
      double temperature) {
    return TextProbability.logProbability(
        logits,
        offset,
        frames,
        FrameWindow.of(logits, offset, frames),
        text,
        minFrames,
        maxFrames,
        temperature);
  }

  /** The constrained Viterbi search over raw logits; the score is unnormalised. */
  private static Path search(float[] logits, int offset, int frames, int minFrames, int maxFrames) {
    int classes = CharacterSet.CLASSES;
    int states = 1 + (classes - 1) * maxFrames;
    double[] score = new double[states];
    double[] next = new double[states];
    int[] from = new int[frames * states]; // back-pointers: from[t * states + s]
    double[] endScore = new double[classes];
    int[] endState = new int[classes];

    Arrays.fill(score, IMPOSSIBLE);
    score[0] = logits[offset + CharacterSet.BLANK];
    for (int c = 1; c < classes; c++) {
      score[state(c, 0, maxFrames)] = logits[offset + c];
    }
    for (int t = 1; t < frames; t++) {
      int frame = offset + t * classes;
      // Per character, its best state that may end here; and the two best such characters.
      int best = 0;
      int second = 0;
      for (int c = 1; c < classes; c++) {
        endState[c] = bestEnding(score, c, minFrames, maxFrames);
        endScore[c] = score[endState[c]];
        if (best == 0 || endScore[c] > endScore[best]) {
          second = best;
          best = c;
        } else if (second == 0 || endScore[c] > endScore[second]) {
          second = c;
        }
      }
      int toBlank = score[0] >= endScore[best] ? 0 : endState[best];
      next[0] = score[toBlank] + logits[frame + CharacterSet.BLANK];
      from[t * states] = toBlank;
      for (int c = 1; c < classes; c++) {
        int other = best == c ? second : best;
        int enter = 0;
        double enterScore = score[0];
        if (endScore[other] > enterScore) {
          enter = endState[other];
          enterScore = endScore[other];
        }
        if (endScore[c] - REPEAT_PENALTY > enterScore) {
          enter = endState[c];
          enterScore = endScore[c] - REPEAT_PENALTY;
        }
        advanceCharacter(
            score,
            next,
            from,
            t * states,
            state(c, 0, maxFrames),
            maxFrames,
            enter,
            enterScore,
            logits[frame + c]);
      }
      double[] swap = score;
      score = next;
      next = swap;
    }

    int end = 0;
    for (int c = 1; c < classes; c++) {
      int s = bestEnding(score, c, minFrames, maxFrames);
      if (score[s] > score[end]) {
        end = s;
      }
    }
    int[] path = backtrace(from, states, frames, end);
    StringBuilder text = new StringBuilder();
    for (int t = 0; t < frames; t++) {
      int s = path[t];
      if (s != 0 && (s - 1) % maxFrames == 0) {
        text.append(CharacterSet.charOf((s - 1) / maxFrames + 1));
      }
    }
    return new Path(text.toString(), score[end]);
  }

  /**
   * One frame of one character's duration chain: its first state is entered from {@code enter}
   * (score {@code enterScore}), each later state from the one before; every state adds the
   * character's logit {@code logit}. Back-pointers go to {@code from[row + state]}.
   */
  static void advanceCharacter(
      double[] score,
      double[] next,
      int[] from,
      int row,
      int first,
      int maxFrames,
      int enter,
      double enterScore,
      float logit) {
    next[first] = enterScore + logit;
    from[row + first] = enter;
    for (int s = first + 1; s < first + maxFrames; s++) {
      next[s] = score[s - 1] + logit;
      from[row + s] = s - 1;
    }
  }

  /** The state path ending in {@code end}, read back from per-frame back-pointers. */
  static int[] backtrace(int[] from, int states, int frames, int end) {
    int[] path = new int[frames];
    path[frames - 1] = end;
    for (int t = frames - 1; t > 0; t--) {
      path[t - 1] = from[t * states + path[t]];
    }
    return path;
  }

  /**
   * The best-scoring state in which character class {@code cls} may end (lasted minFrames or more).
   */
  private static int bestEnding(double[] score, int cls, int minFrames, int maxFrames) {
    int best = state(cls, minFrames - 1, maxFrames);
    for (int k = minFrames; k < maxFrames; k++) {
      int s = state(cls, k, maxFrames);
      if (score[s] > score[best]) {
        best = s;
      }
    }
    return best;
  }

  /** The state of character class {@code cls} in the {@code k}-th frame (from 0) of its run. */
  private static int state(int cls, int k, int maxFrames) {
    return 1 + (cls - 1) * maxFrames + k;
  }
}
