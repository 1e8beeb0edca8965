package dev.docstream.inference.model.decoding;

import dev.docstream.adapters.FieldFormat;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * {@link OutputDecoder}'s path search restricted to text of one {@link FieldFormat}: the same frame
 * rules (a character lasts minFrames to maxFrames frames, blanks separate characters, a repeat
 * without a blank costs {@link OutputDecoder#REPEAT_PENALTY}), with the position in the format
 * added to every state, so that the best path found is the best one whose text fits.
 *
 * <p>States: {@code blank k} is a blank after k characters (k = 0..n); {@code (k, i, d)} is the
 * d-th frame (from 0) of the k-th character, read as the i-th class the format allows there.
 */
final class FormatSearch {
  private static final double IMPOSSIBLE = Double.NEGATIVE_INFINITY;

  private final int positions;
  private final int maxFrames;
  private final int[][] allowed; // allowed[k]: the classes position k may hold
  private final int[] firstState; // firstState[k]: state (k, 0, 0)
  private final int states;

  private FormatSearch(FieldFormat format, int maxFrames) {
    this.positions = format.length();
    this.maxFrames = maxFrames;
    this.allowed = new int[positions][];
    this.firstState = new int[positions];
    int next = positions + 1;
    for (int k = 0; k < positions; k++) {
      int position = k;
      allowed[k] =
          IntStream.range(1, CharacterSet.CLASSES)
              .filter(c -> format.allows(position, CharacterSet.charOf(c)))
              .toArray();
      firstState[k] = next;
      next += allowed[k].length * maxFrames;
    }
    this.states = next;
  }

  /**
   * The most probable path through {@code frames x C} raw logits at {@code offset} whose text fits
   * {@code format}; the score is unnormalised, as in OutputDecoder's own search. Null when no path
   * of that many characters fits in the frames.
   */
  static OutputDecoder.Path search(
      float[] logits, int offset, int frames, int minFrames, int maxFrames, FieldFormat format) {
    if (frames < format.length() * minFrames) {
      return null;
    }
    return new FormatSearch(format, maxFrames).run(logits, offset, frames, minFrames);
  }

  private int charState(int k, int i, int d) {
    return firstState[k] + i * maxFrames + d;
  }

  private OutputDecoder.Path run(float[] logits, int offset, int frames, int minFrames) {
    int classes = CharacterSet.CLASSES;
    double[] score = new double[states];
    double[] next = new double[states];
    int[] from = new int[frames * states]; // back-pointers: from[t * states + s]
    // Per position: each allowed class's best state that may end here, and the two best classes.
    int[][] endState = new int[positions][];
    int[] best = new int[positions];
    int[] second = new int[positions];
    for (int k = 0; k < positions; k++) {
      endState[k] = new int[allowed[k].length];
    }

    Arrays.fill(score, IMPOSSIBLE);
    score[0] = logits[offset + CharacterSet.BLANK];
    for (int i = 0; i < allowed[0].length; i++) {
      score[charState(0, i, 0)] = logits[offset + allowed[0][i]];
    }
    for (int t = 1; t < frames; t++) {
      int frame = offset + t * classes;
      for (int k = 0; k < positions; k++) {
        endings(score, k, minFrames, endState[k], best, second);
      }
      for (int k = 0; k <= positions; k++) {
        // blank k: stays blank, or the (k-1)-th character ends
        int enter = k;
        if (k > 0 && score[endState[k - 1][best[k - 1]]] > score[enter]) {
          enter = endState[k - 1][best[k - 1]];
        }
        next[k] = score[enter] + logits[frame + CharacterSet.BLANK];
        from[t * states + k] = enter;
      }
      for (int k = 0; k < positions; k++) {
        for (int i = 0; i < allowed[k].length; i++) {
          int cls = allowed[k][i];
          int enter = k; // from blank k
          double enterScore = score[k];
          if (k > 0) {
            int before = k - 1;
            int other = allowed[before][best[before]] == cls ? second[before] : best[before];
            if (other >= 0 && score[endState[before][other]] > enterScore) {
              enter = endState[before][other];
              enterScore = score[enter];
            }
            int same = Arrays.binarySearch(allowed[before], cls);
            if (same >= 0
                && score[endState[before][same]] - OutputDecoder.REPEAT_PENALTY > enterScore) {
              enter = endState[before][same];
              enterScore = score[enter] - OutputDecoder.REPEAT_PENALTY;
            }
          }
          OutputDecoder.advanceCharacter(
              score,
              next,
              from,
              t * states,
              charState(k, i, 0),
              maxFrames,
              enter,
              enterScore,
              logits[frame + cls]);
        }
      }
      double[] swap = score;
      score = next;
      next = swap;
    }

    int end = positions; // blank after the last character, or the last character ending
    int last = positions - 1;
    endings(score, last, minFrames, endState[last], best, second);
    if (score[endState[last][best[last]]] > score[end]) {
      end = endState[last][best[last]];
    }
    if (score[end] == IMPOSSIBLE) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    for (int s : OutputDecoder.backtrace(from, states, frames, end)) {
      if (s > positions) { // a character state: read its class where the character starts (d = 0)
        int k = position(s);
        int offsetInPosition = s - firstState[k];
        if (offsetInPosition % maxFrames == 0) {
          text.append(CharacterSet.charOf(allowed[k][offsetInPosition / maxFrames]));
        }
      }
    }
    return new OutputDecoder.Path(text.toString(), score[end]);
  }

  /** Fills {@code endState} for position k and sets best[k], second[k] (-1 where none). */
  private void endings(
      double[] score, int k, int minFrames, int[] endState, int[] best, int[] second) {
    int b = -1;
    int s2 = -1;
    for (int i = 0; i < allowed[k].length; i++) {
      int e = charState(k, i, minFrames - 1);
      for (int d = minFrames; d < maxFrames; d++) {
        if (score[charState(k, i, d)] > score[e]) {
          e = charState(k, i, d);
        }
      }
      endState[i] = e;
      if (b < 0 || score[e] > score[endState[b]]) {
        s2 = b;
        b = i;
      } else if (s2 < 0 || score[e] > score[endState[s2]]) {
        s2 = i;
      }
    }
    best[k] = b;
    second[k] = s2;
  }

  /** The format position of a character state. */
  private int position(int state) {
    int k = positions - 1;
    while (firstState[k] > state) {
      k--;
    }
    return k;
  }
}
