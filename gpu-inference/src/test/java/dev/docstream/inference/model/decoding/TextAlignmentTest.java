package dev.docstream.inference.model.decoding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TextAlignmentTest {
  private static final int C = CharacterSet.CLASSES;

  /** Logits from a frame string: '_' is blank, any other character that class, at logit 8. */
  private static float[] frames(String spec) {
    float[] logits = new float[spec.length() * C];
    for (int t = 0; t < spec.length(); t++) {
      char ch = spec.charAt(t);
      logits[t * C + (ch == '_' ? CharacterSet.BLANK : CharacterSet.classOf(ch))] = 8;
    }
    return logits;
  }

  private static int[][] runs(TextAlignment a) {
    int[][] runs = new int[a.characters()][];
    for (int i = 0; i < a.characters(); i++) {
      runs[i] = new int[] {a.start(i), a.end(i)};
    }
    return runs;
  }

  @Test
  void shouldPlaceEachCharacterOnTheFramesThatShowIt() {
    String spec = "___AA____BBB___AA___";
    TextAlignment a = TextAlignment.align(frames(spec), 0, spec.length(), "ABA");
    assertTrue(a.isPossible());
    assertArrayEquals(new int[][] {{3, 4}, {9, 11}, {15, 16}}, runs(a));
    assertEquals(4.0, a.center(0));
    assertEquals(10.5, a.center(1));
  }

  @Test
  void shouldAlignTheKnownTextWhereTheModelReadsAnother() {
    // The model reads "AC"; the known text "AB" takes the frames of C, the best place left for B.
    String spec = "__AA___CC___";
    TextAlignment a = TextAlignment.align(frames(spec), 0, spec.length(), "AB");
    assertTrue(a.isPossible());
    assertArrayEquals(new int[][] {{2, 3}, {7, 8}}, runs(a));
    assertTrue(
        a.logProbability()
            < TextAlignment.align(frames(spec), 0, spec.length(), "AC").logProbability());
  }

  @Test
  void shouldSplitARunLongerThanACharacterIntoARepeat() {
    String spec = "_AAAAAAAA_";
    TextAlignment a = TextAlignment.align(frames(spec), 0, spec.length(), "AA");
    assertArrayEquals(new int[][] {{1, 4}, {5, 8}}, runs(a));
  }

  @Test
  void shouldScoreThePathTheDecoderFindsWhenItReadsTheSameText() {
    // Random logits: no frame is clearly blank, so the decoder searches every frame as this does.
    Random rnd = new Random(3);
    int frames = 40;
    for (int round = 0; round < 20; round++) {
      float[] logits = new float[frames * C];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) rnd.nextGaussian() * 3;
      }
      for (int t = 0; t < frames; t++) {
        logits[t * C] += 2; // blank a little more likely, as in real logits
      }
      OutputDecoder.Path best =
          OutputDecoder.bestPath(
              logits,
              0,
              frames,
              OutputDecoder.MIN_CHARACTER_FRAMES,
              OutputDecoder.MAX_CHARACTER_FRAMES);
      TextAlignment a = TextAlignment.align(logits, 0, frames, best.text());
      assertEquals(best.logProbability(), a.logProbability(), 1e-6, "text " + best.text());
      // The best path of a text is one of the paths its probability sums.
      double sum =
          OutputDecoder.textLogProbability(
              logits,
              0,
              frames,
              best.text(),
              OutputDecoder.MIN_CHARACTER_FRAMES,
              OutputDecoder.MAX_CHARACTER_FRAMES);
      assertTrue(a.logProbability() <= sum + 1e-9);
      for (int i = 0; i < a.characters(); i++) {
        int length = a.end(i) - a.start(i) + 1;
        assertTrue(length >= 2 && length <= 4, "run of " + length + " frames");
        assertTrue(i == 0 || a.start(i) > a.end(i - 1));
      }
    }
  }

  @Test
  void shouldReadBackAsTheTextWhenItsRunsAreDecoded() {
    String spec = "_1199__99_0000_";
    float[] logits = new float[spec.length() * C];
    for (int t = 0; t < spec.length(); t++) {
      logits[t * C] = 1;
    }
    TextAlignment a = TextAlignment.align(frames(spec), 0, spec.length(), "1990");
    for (int i = 0; i < a.characters(); i++) {
      for (int t = a.start(i); t <= a.end(i); t++) {
        logits[t * C] = 0;
        logits[t * C + CharacterSet.classOf("1990".charAt(i))] = 10;
      }
    }
    assertEquals(
        "1990",
        OutputDecoder.bestPath(
                logits,
                0,
                spec.length(),
                OutputDecoder.MIN_CHARACTER_FRAMES,
                OutputDecoder.MAX_CHARACTER_FRAMES)
            .text());
  }

  @Test
  void shouldFindNoAlignmentForATextThatCannotBeRead() {
    String spec = "__AB_CD__";
    TextAlignment tooLong = TextAlignment.align(frames(spec), 0, spec.length(), "ABCDE");
    assertFalse(tooLong.isPossible());
    assertEquals(Double.NEGATIVE_INFINITY, tooLong.logProbability());
    assertEquals(0, tooLong.characters());
    assertFalse(TextAlignment.align(frames(spec), 0, spec.length(), "A#").isPossible());
  }

  @Test
  void shouldAlignTheEmptyTextAsBlankFrames() {
    TextAlignment a = TextAlignment.align(frames("____"), 0, 4, "");
    assertTrue(a.isPossible());
    assertEquals(0, a.characters());
    assertTrue(a.logProbability() < 0 && a.logProbability() > -0.1);
  }

  @Test
  void shouldAlignTheFieldAtItsOffset() {
    String spec = "__XYZ___" + "_AA_BB__";
    float[] logits = frames(spec);
    TextAlignment a = TextAlignment.align(logits, 8 * C, 8, "AB");
    assertArrayEquals(new int[][] {{1, 2}, {4, 5}}, runs(a));
  }

  @Test
  void shouldRefuseFrameRulesNoCharacterFits() {
    assertThrows(
        IllegalArgumentException.class, () -> TextAlignment.align(frames("__"), 0, 2, "A", 3, 2));
  }
}
