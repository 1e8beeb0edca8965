package dev.docstream.inference.model.decoding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.FieldFormat;
import dev.docstream.schemas.DocumentField;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OutputDecoderTest {
  private static final int C = CharacterSet.CLASSES;

  /**
   * Logits for one field from a frame string: '_' is blank, any other character is that class with
   * logit 8 (probability ~0.93), and a lower-case letter is a weak frame where its upper-case class
   * scores 3 against the neighbouring frame's class at 2.
   */
  private static float[] frames(String spec) {
    float[] logits = new float[spec.length() * C];
    for (int t = 0; t < spec.length(); t++) {
      char ch = spec.charAt(t);
      if (Character.isLowerCase(ch)) {
        logits[t * C + CharacterSet.classOf(ch)] = 3;
        char neighbour = spec.charAt(t - 1);
        logits[t * C + (neighbour == '_' ? CharacterSet.BLANK : CharacterSet.classOf(neighbour))] =
            2;
      } else {
        logits[t * C + (ch == '_' ? CharacterSet.BLANK : CharacterSet.classOf(ch))] = 8;
      }
    }
    return logits;
  }

  private static String read(String spec, int minFrames) {
    return OutputDecoder.bestPath(
            frames(spec), 0, spec.length(), minFrames, OutputDecoder.MAX_CHARACTER_FRAMES)
        .text();
  }

  @Test
  void shouldReadRunsOfFramesAsCharacters() {
    assertEquals("SUZUKI", read("__SSS_UUU_ZZZ_UUU_KK_III___", 2));
    assertEquals("SUZUKI", read("SSSUUUZZZUUUKKIII", 2));
  }

  @Test
  void shouldKeepARepeatedCharacterSeparatedByABlank() {
    assertEquals("ANNA", read("_AA_NN_NN_AA_", 2));
    assertEquals("1990", read("11_999_999_000", 2));
  }

  @Test
  void shouldDropOneFrameCharactersBetweenGlyphs() {
    // Per-frame argmax reads "UOZ" here; the frame between U and Z is a transition.
    assertEquals("UOZ", read("UUUoZZZ", 1));
    assertEquals("UZ", read("UUUoZZZ", 2));
    assertEquals("SUOZLUEKI", read("SSSUUoZZZ_lUUeKKIII", 1));
    assertEquals("SUZUKI", read("SSSUUoZZZ_lUUeKKIII", 2));
  }

  @Test
  void shouldReadARunTooLongForOneGlyphAsARepeatedCharacter() {
    assertEquals("ROSSI", read("RRROOOSSSSSSIII", 2));
    assertEquals("ROSI", read("RRROOOSSSSIII", 2));
    // A blank frame, where there is one, separates the repeat rather than the run's length.
    assertEquals("ROSSI", read("RRROOOSSS_SSSIII", 2));
  }

  @Test
  void shouldNotReadALoneOneFrameCharacter() {
    // Training labels every glyph over two frames or more, so one frame alone is not a glyph.
    assertEquals("", read("___A___", 2));
    assertEquals("A", read("___AA___", 2));
  }

  @Test
  void shouldNormaliseDatesAndGiveTheTextProbabilityAsConfidence() {
    int frames = 24;
    float[] logits = new float[DocumentField.values().length * frames * C];
    place(logits, DocumentField.DATE_OF_BIRTH, "0011..0022..1199_9900", frames);
    place(logits, DocumentField.EXPIRY_DATE, "3333_..1122", frames);
    place(logits, DocumentField.SEX, "__MM", frames);
    Map<DocumentField, FieldReading> read = OutputDecoder.decode(logits, 1, frames).get(0);

    assertEquals("01.02.1990", read.get(DocumentField.DATE_OF_BIRTH).raw());
    assertEquals("1990-02-01", read.get(DocumentField.DATE_OF_BIRTH).value());
    FieldReading unparsable = read.get(DocumentField.EXPIRY_DATE);
    assertEquals("3.12", unparsable.value());
    assertEquals(0, unparsable.confidence(), "a date that does not parse has confidence 0");
    assertEquals("M", read.get(DocumentField.SEX).value());
    double perFrame = Math.exp(8) / (Math.exp(8) + C - 1);
    double bestPath = Math.pow(perFrame, frames);
    double confidence = read.get(DocumentField.SEX).confidence();
    // The other paths that read "M" (an edge frame of the run read as M or blank) add a little.
    assertEquals(
        Math.exp(
            bruteForceLogSum(fieldLogits(logits, DocumentField.SEX, frames), frames, "M")
                - normaliser(fieldLogits(logits, DocumentField.SEX, frames), frames)),
        confidence,
        1e-12);
    assertTrue(confidence > bestPath && confidence < 1, confidence + " vs best path " + bestPath);
  }

  @Test
  void shouldGiveTheTextProbabilitySummedOverEveryPathThatReadsAsIt() {
    // Checked against an enumeration of every segmentation of the frames into blank runs and
    // character runs of 2 to 4 frames, on random logits where many paths compete.
    Random rnd = new Random(11);
    String[] texts = {"", "A", "AB", "AA", "ABA", "1990", "SS", "XYZ"};
    for (int trial = 0; trial < 40; trial++) {
      int frames = 6 + rnd.nextInt(9);
      float[] logits = new float[frames * C];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) rnd.nextGaussian() * 2;
      }
      for (String text : texts) {
        double expected = bruteForceLogSum(logits, frames, text);
        double actual = TextProbability.logSum(logits, 0, frames, text, 2, 4);
        if (expected == Double.NEGATIVE_INFINITY) {
          assertEquals(expected, actual, "trial " + trial + " '" + text + "'");
        } else {
          assertEquals(
              expected, actual, 1e-9 * Math.abs(expected), "trial " + trial + " '" + text + "'");
        }
      }
    }
  }

  @Test
  void shouldGiveAtLeastTheBestPathsProbabilityAsConfidence() {
    // A sharp field (one clear reading) and a blurred one, where glyph edges are uncertain.
    for (float edge : new float[] {0f, 6f}) {
      String spec = "__1111_99_999__000_";
      float[] logits = frames(spec);
      for (int t = 1; t < spec.length(); t++) {
        if (spec.charAt(t) != spec.charAt(t - 1)) { // an edge: both neighbours plausible
          char before = spec.charAt(t - 1);
          logits[t * C + (before == '_' ? CharacterSet.BLANK : CharacterSet.classOf(before))] +=
              edge;
        }
      }
      OutputDecoder.Path best = OutputDecoder.bestPath(logits, 0, spec.length(), 2, 4);
      double text = OutputDecoder.textLogProbability(logits, 0, spec.length(), best.text(), 2, 4);
      assertEquals("1990", best.text());
      assertTrue(text >= best.logProbability() && text <= 0, text + " vs " + best.logProbability());
      if (edge > 0) {
        assertTrue(
            Math.exp(text) > 2 * Math.exp(best.logProbability()),
            "with uncertain edges the text is far more probable than its best path: "
                + Math.exp(text)
                + " vs "
                + Math.exp(best.logProbability()));
      }
    }
  }

  @Test
  void shouldGiveTheTextProbabilityAtATemperatureWithEveryPathsScoreDividedByIt() {
    // Against the enumeration on logits divided by T, each repeat penalised by REPEAT_PENALTY / T,
    // normalised by each frame's softmax at T; the frames are those of a whole field, outside
    // blanks included, so that the window's outside score and normaliser are checked too.
    Random rnd = new Random(12);
    String[] texts = {"A", "AB", "AA", "1990"};
    int checked = 0;
    for (int trial = 0; trial < 30; trial++) {
      int frames = 6 + rnd.nextInt(9);
      float[] logits = new float[frames * C];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) rnd.nextGaussian() * 2;
      }
      for (double t : new double[] {0.3, 0.7, 1.0, 2.5}) {
        float[] tempered = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
          tempered[i] = (float) (logits[i] / t);
        }
        for (String text : texts) {
          double expected =
              bruteForceLogSum(tempered, frames, text, OutputDecoder.REPEAT_PENALTY / t)
                  - normaliser(tempered, frames);
          double actual = OutputDecoder.textLogProbability(logits, 0, frames, text, 2, 4, t);
          if (expected == Double.NEGATIVE_INFINITY) {
            assertEquals(expected, actual, "trial " + trial + " T " + t + " '" + text + "'");
          } else {
            assertEquals(
                expected,
                actual,
                1e-6 * Math.abs(expected),
                "trial " + trial + " T " + t + " '" + text + "'");
            checked++;
          }
        }
      }
    }
    assertTrue(checked > 200, "only " + checked + " texts were possible");
  }

  @Test
  void shouldReadTheSameTextsAtEveryTemperatureAndChangeOnlyTheConfidences() {
    int frames = 24;
    Random rnd = new Random(3);
    float[] logits = new float[2 * DocumentField.values().length * frames * C];
    for (int b = 0; b < 2; b++) {
      place(logits, b, DocumentField.DATE_OF_BIRTH, "0011..0022..1199_9900", frames);
      place(logits, b, DocumentField.SURNAME, "_SSSUUoZZZ_lUUeKKIII", frames);
      place(logits, b, DocumentField.SEX, "__MM", frames);
    }
    for (int i = 0; i < logits.length; i++) {
      logits[i] += (float) rnd.nextGaussian() * 0.5f; // every class a little plausible
    }
    var untempered = OutputDecoder.decode(logits, 2, frames, Map.of());
    assertEquals(untempered, OutputDecoder.decode(logits, 2, frames, Map.of(), 1.0), "T = 1");
    for (double t : new double[] {0.25, 0.5, 2, 4}) {
      var tempered = OutputDecoder.decode(logits, 2, frames, Map.of(), t);
      for (int b = 0; b < 2; b++) {
        for (DocumentField f : DocumentField.values()) {
          FieldReading at1 = untempered.get(b).get(f);
          FieldReading atT = tempered.get(b).get(f);
          assertEquals(at1.value(), atT.value(), f + " at T " + t);
          assertEquals(at1.raw(), atT.raw(), f + " at T " + t);
          assertTrue(atT.confidence() >= 0 && atT.confidence() <= 1, f + " " + atT);
        }
      }
    }
    // A clear reading grows surer below 1 and less sure above it.
    double sure = untempered.get(0).get(DocumentField.SEX).confidence();
    double sharper =
        OutputDecoder.decode(logits, 2, frames, Map.of(), 0.5)
            .get(0)
            .get(DocumentField.SEX)
            .confidence();
    double softer =
        OutputDecoder.decode(logits, 2, frames, Map.of(), 2)
            .get(0)
            .get(DocumentField.SEX)
            .confidence();
    assertTrue(sure > 0.5, "M is read clearly: " + sure);
    assertTrue(sharper > sure && softer < sure, softer + " < " + sure + " < " + sharper);
  }

  @Test
  void shouldRefuseATemperatureThatIsNotAPositiveNumber() {
    float[] logits = new float[DocumentField.values().length * 4 * C];
    for (double t : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> OutputDecoder.decode(logits, 1, 4, Map.of(), t),
          "T " + t);
    }
  }

  /**
   * Log of the summed exp(raw logits) of every path reading as {@code text}: segment by segment.
   */
  private static double bruteForceLogSum(float[] logits, int frames, String text) {
    return bruteForceLogSum(logits, frames, text, OutputDecoder.REPEAT_PENALTY);
  }

  private static double bruteForceLogSum(
      float[] logits, int frames, String text, double repeatPenalty) {
    double sum = segments(logits, frames, text, 0, 0, -2, repeatPenalty);
    return Math.log(sum);
  }

  /** {@code previous}: -2 nothing yet, -1 a blank run, else the class of the character run. */
  private static double segments(
      float[] logits,
      int frames,
      String text,
      int t,
      int read,
      int previous,
      double repeatPenalty) {
    if (t == frames) {
      return read == text.length() ? 1 : 0;
    }
    double sum = 0;
    if (previous != -1) {
      double run = 1;
      for (int end = t; end < frames; end++) {
        run *= Math.exp(logits[end * C + CharacterSet.BLANK]);
        sum += run * segments(logits, frames, text, end + 1, read, -1, repeatPenalty);
      }
    }
    if (read < text.length()) {
      int cls = CharacterSet.classOf(text.charAt(read));
      double penalty = previous == cls ? Math.exp(-repeatPenalty) : 1;
      double run = 1;
      for (int len = 1; len <= 4 && t + len <= frames; len++) {
        run *= Math.exp(logits[(t + len - 1) * C + cls]);
        if (len >= 2) {
          sum +=
              penalty * run * segments(logits, frames, text, t + len, read + 1, cls, repeatPenalty);
        }
      }
    }
    return sum;
  }

  private static float[] fieldLogits(float[] logits, DocumentField field, int frames) {
    return java.util.Arrays.copyOfRange(
        logits, field.ordinal() * frames * C, (field.ordinal() + 1) * frames * C);
  }

  private static double normaliser(float[] logits, int frames) {
    double sum = 0;
    for (int t = 0; t < frames; t++) {
      double z = 0;
      for (int c = 0; c < C; c++) {
        z += Math.exp(logits[t * C + c]);
      }
      sum += Math.log(z);
    }
    return sum;
  }

  private static String read(float[] logits, int frames, String format) {
    return OutputDecoder.bestPath(
            logits,
            0,
            frames,
            OutputDecoder.MIN_CHARACTER_FRAMES,
            OutputDecoder.MAX_CHARACTER_FRAMES,
            format == null ? null : new FieldFormat(format))
        .text();
  }

  @Test
  void shouldReadALetterAsTheDigitTheFormatAsksFor() {
    String spec = "_11_OO_77_";
    float[] logits = frames(spec);
    for (int t : new int[] {4, 5}) {
      logits[t * C + CharacterSet.classOf('0')] = 6; // the digit 0, a close second to the letter O
    }
    assertEquals("1O7", read(logits, spec.length(), null));
    assertEquals("107", read(logits, spec.length(), "DDD"));
    assertEquals("1O7", read(logits, spec.length(), "DLD"));
    assertEquals("1O7", read(logits, spec.length(), "DAD"));
  }

  @Test
  void shouldReadExactlyAsManyCharactersAsTheFormatHas() {
    String spec = "_11_22_33__ZZ_";
    assertEquals("123Z", read(frames(spec), spec.length(), null));
    assertEquals("123Z", read(frames(spec), spec.length(), "DDDL"));
    assertEquals("123", read(frames(spec), spec.length(), "DDD"), "Z is no digit: read as blank");
    // A run of 6 frames is one character read twice; a format of five characters makes it so.
    String run = "_111111_22_33_";
    assertEquals("1123", read(frames(run), run.length(), null));
    assertEquals("11123", read(frames(run), run.length(), "DDDDD"));
  }

  @Test
  void shouldReadFreeTextWhenTheFramesCannotHoldTheFormat() {
    String spec = "_11_22_";
    assertEquals(
        "12", read(frames(spec), spec.length(), "DDDDDDDD"), "8 characters need 16 frames");
  }

  @Test
  void shouldFindTheUnconstrainedPathWhenItFitsTheFormat() {
    // Where the best path of all fits a format, the format's search must find that same path.
    Random rnd = new Random(3);
    int checked = 0;
    for (int trial = 0; trial < 300; trial++) {
      int frames = 12 + rnd.nextInt(30);
      float[] logits = new float[frames * C];
      for (int t = 0; t < frames; t++) {
        int peak =
            rnd.nextInt(3) == 0
                ? CharacterSet.BLANK
                : 5 + rnd.nextInt(C - 5); // blanks, digits, letters
        for (int c = 0; c < C; c++) {
          logits[t * C + c] =
              (float) rnd.nextGaussian() + (c == peak ? 4 + 3 * rnd.nextFloat() : 0);
        }
      }
      OutputDecoder.Path free = OutputDecoder.bestPath(logits, 0, frames, 2, 4);
      if (free.text().isEmpty() || !free.text().chars().allMatch(Character::isLetterOrDigit)) {
        continue;
      }
      StringBuilder format = new StringBuilder();
      for (char ch : free.text().toCharArray()) {
        format.append(rnd.nextBoolean() ? 'A' : Character.isDigit(ch) ? 'D' : 'L');
      }
      OutputDecoder.Path fitted =
          OutputDecoder.bestPath(logits, 0, frames, 2, 4, new FieldFormat(format.toString()));
      assertEquals(free.text(), fitted.text(), "trial " + trial);
      assertEquals(free.logProbability(), fitted.logProbability(), 1e-9, "trial " + trial);
      checked++;
    }
    assertTrue(checked > 200, "only " + checked + " trials had text");
  }

  @Test
  void shouldApplyAFormatToItsFieldOnly() {
    int frames = 16;
    float[] logits = new float[DocumentField.values().length * frames * C];
    place(logits, DocumentField.DOCUMENT_NUMBER, "_11_OO_77_", frames);
    place(logits, DocumentField.SURNAME, "_11_OO_77_", frames);
    for (DocumentField f :
        new DocumentField[] {DocumentField.DOCUMENT_NUMBER, DocumentField.SURNAME}) {
      for (int t : new int[] {4, 5}) {
        logits[(f.ordinal() * frames + t) * C + CharacterSet.classOf('0')] = 6;
      }
    }
    Map<DocumentField, FieldReading> read =
        OutputDecoder.decode(
                logits, 1, frames, Map.of(DocumentField.DOCUMENT_NUMBER, new FieldFormat("DDD")))
            .get(0);
    assertEquals("107", read.get(DocumentField.DOCUMENT_NUMBER).value());
    assertEquals("1O7", read.get(DocumentField.SURNAME).value());
  }

  private static void place(float[] logits, DocumentField field, String spec, int frames) {
    place(logits, 0, field, spec, frames);
  }

  private static void place(
      float[] logits, int image, DocumentField field, String spec, int frames) {
    String padded = (spec + "_".repeat(frames)).substring(0, frames);
    int offset = (image * DocumentField.values().length + field.ordinal()) * frames * C;
    System.arraycopy(frames(padded), 0, logits, offset, frames * C);
  }
}
