package dev.docstream.inference.model.decoding;

import java.util.Arrays;

/**
 * Forced alignment: the most probable frame path that reads exactly a given text under {@link
 * OutputDecoder}'s frame rules (each character lasting minFrames to maxFrames frames, blanks
 * between, a repeat without a blank at {@link OutputDecoder#REPEAT_PENALTY}). It is {@link
 * TextProbability}'s recursion with the maximum in place of the sum, and a back-trace.
 *
 * <p>Why: to train on a document whose text is known but not where its characters are printed (an
 * analyst's correction), the frames each character occupies are taken from the model's own logits,
 * constrained to the known text; every frame of the field is searched, the clearly blank ones
 * included, as the model may have missed a character the text holds.
 *
 * <p>States for a text of n characters, as in {@link TextProbability}: {@code blank j}, a blank
 * after j characters (j = 0..n), and {@code (j, d)}, the d-th frame (from 0) of the j-th character.
 */
public final class TextAlignment {
  private static final double IMPOSSIBLE = Double.NEGATIVE_INFINITY;
  private static final int[] NONE = {};

  private final int[] starts;
  private final int[] ends;
  private final double logProbability;

  private TextAlignment(int[] starts, int[] ends, double logProbability) {
    this.starts = starts;
    this.ends = ends;
    this.logProbability = logProbability;
  }

  /**
   * The best path through one field's {@code frames x C} logits at {@code offset} that reads as
   * {@code text}, under the decoder's frame rules ({@link OutputDecoder#MIN_CHARACTER_FRAMES} to
   * {@link OutputDecoder#MAX_CHARACTER_FRAMES} frames per character).
   *
   * @return the alignment; impossible (log-probability minus infinity, no runs) when no path reads
   *     the text: too long for the frames, or a character the model cannot read
   */
  public static TextAlignment align(float[] logits, int offset, int frames, String text) {
    return align(
        logits,
        offset,
        frames,
        text,
        OutputDecoder.MIN_CHARACTER_FRAMES,
        OutputDecoder.MAX_CHARACTER_FRAMES);
  }

  /** As {@link #align(float[], int, int, String)}, each character lasting the given frames. */
  public static TextAlignment align(
      float[] logits, int offset, int frames, String text, int minFrames, int maxFrames) {
    if (minFrames < 1 || maxFrames < minFrames) {
      throw new IllegalArgumentException(
          "a character lasts 1 <= minFrames <= maxFrames frames, got "
              + minFrames
              + " and "
              + maxFrames);
    }
    int n = text.length();
    int[] cls = new int[n];
    for (int j = 0; j < n; j++) {
      cls[j] = CharacterSet.classOf(text.charAt(j));
      if (cls[j] < 0) {
        return impossible();
      }
    }
    if (frames < 1 || (long) n * minFrames > frames) {
      return impossible();
    }
    double normaliser = FrameWindow.of(logits, offset, frames).normaliser();
    return new Search(cls, minFrames, maxFrames).run(logits, offset, frames, normaliser);
  }

  /** Whether some path reads the text. */
  public boolean isPossible() {
    return logProbability != IMPOSSIBLE;
  }

  /**
   * The log-probability of the best path (the softmax of every frame taken), minus infinity when
   * none reads the text.
   */
  public double logProbability() {
    return logProbability;
  }

  /** Characters aligned: the text's length, or 0 when impossible. */
  public int characters() {
    return starts.length;
  }

  /** The first frame of character {@code i}. */
  public int start(int i) {
    return starts[i];
  }

  /** The last frame of character {@code i}. */
  public int end(int i) {
    return ends[i];
  }

  /** The middle of character {@code i}'s run, in frames (frame t spans [t, t + 1)). */
  public double center(int i) {
    return (starts[i] + ends[i] + 1) / 2.0;
  }

  private static TextAlignment impossible() {
    return new TextAlignment(NONE, NONE, IMPOSSIBLE);
  }

  /** One search: the text's classes and its states' layout. */
  private static final class Search {
    private final int[] cls;
    private final int n;
    private final int minFrames;
    private final int maxFrames;
    private final int states;

    Search(int[] cls, int minFrames, int maxFrames) {
      this.cls = cls;
      this.n = cls.length;
      this.minFrames = minFrames;
      this.maxFrames = maxFrames;
      this.states = n + 1 + n * maxFrames;
    }

    private int charState(int j, int d) {
      return n + 1 + j * maxFrames + d;
    }

    /** The state of character j, between minFrames and maxFrames long, with the best score. */
    private int bestEnding(double[] score, int j) {
      int best = charState(j, minFrames - 1);
      for (int d = minFrames; d < maxFrames; d++) {
        if (score[charState(j, d)] > score[best]) {
          best = charState(j, d);
        }
      }
      return best;
    }

    TextAlignment run(float[] logits, int offset, int frames, double normaliser) {
      int classes = CharacterSet.CLASSES;
      double[] score = new double[states];
      double[] next = new double[states];
      int[] from = new int[frames * states]; // back-pointers: from[t * states + s]
      int[] ending = new int[n]; // ending[j]: character j's best state that may end
      Arrays.fill(score, IMPOSSIBLE);
      score[0] = logits[offset + CharacterSet.BLANK];
      if (n > 0) {
        score[charState(0, 0)] = logits[offset + cls[0]];
      }
      for (int t = 1; t < frames; t++) {
        int frame = offset + t * classes;
        int row = t * states;
        for (int j = 0; j < n; j++) {
          ending[j] = bestEnding(score, j);
        }
        float blankLogit = logits[frame + CharacterSet.BLANK];
        next[0] = score[0] + blankLogit;
        from[row] = 0;
        for (int j = 1; j <= n; j++) {
          int enter = score[ending[j - 1]] > score[j] ? ending[j - 1] : j;
          next[j] = score[enter] + blankLogit;
          from[row + j] = enter;
        }
        for (int j = 0; j < n; j++) {
          int enter = j; // from blank j
          double enterScore = score[j];
          if (j > 0) {
            double penalty = cls[j] == cls[j - 1] ? OutputDecoder.REPEAT_PENALTY : 0;
            if (score[ending[j - 1]] - penalty > enterScore) {
              enter = ending[j - 1];
              enterScore = score[enter] - penalty;
            }
          }
          OutputDecoder.advanceCharacter(
              score,
              next,
              from,
              row,
              charState(j, 0),
              maxFrames,
              enter,
              enterScore,
              logits[frame + cls[j]]);
        }
        double[] swap = score;
        score = next;
        next = swap;
      }
      int end = n; // blank after the last character, or the last character ending
      if (n > 0 && score[bestEnding(score, n - 1)] > score[end]) {
        end = bestEnding(score, n - 1);
      }
      if (score[end] == IMPOSSIBLE) {
        return impossible();
      }
      int[] starts = new int[n];
      int[] ends = new int[n];
      int[] path = OutputDecoder.backtrace(from, states, frames, end);
      for (int t = 0; t < frames; t++) {
        if (path[t] > n) {
          int j = (path[t] - n - 1) / maxFrames;
          if ((path[t] - n - 1) % maxFrames == 0) {
            starts[j] = t;
          }
          ends[j] = t;
        }
      }
      return new TextAlignment(starts, ends, score[end] - normaliser);
    }
  }
}
