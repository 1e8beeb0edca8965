package dev.docstream.inference.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DocumentField;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutputDecoderTest {
  private static final int C = CharacterSet.CLASSES;

  /**
   * Logits for one field from a frame string: '_' is blank, any other character is that class
   * with logit 8 (probability ~0.93), and a lower-case letter is a weak frame where its
   * upper-case class scores 3 against the neighbouring frame's class at 2.
   */
  private static float[] frames(String spec) {
    float[] logits = new float[spec.length() * C];
    for (int t = 0; t < spec.length(); t++) {
      char ch = spec.charAt(t);
      if (Character.isLowerCase(ch)) {
        logits[t * C + CharacterSet.classOf(ch)] = 3;
        char neighbour = spec.charAt(t - 1);
        logits[t * C + (neighbour == '_' ? CharacterSet.BLANK : CharacterSet.classOf(neighbour))] = 2;
      } else {
        logits[t * C + (ch == '_' ? CharacterSet.BLANK : CharacterSet.classOf(ch))] = 8;
      }
    }
    return logits;
  }

  private static String read(String spec, int minFrames) {
    return OutputDecoder.bestPath(frames(spec), 0, spec.length(), minFrames, OutputDecoder.MAX_CHARACTER_FRAMES)
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
  void shouldNormaliseDatesAndGiveThePathProbabilityAsConfidence() {
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
    double perFrame = Math.exp(8) / (Math.exp(8) + C - 1);
    assertEquals("M", read.get(DocumentField.SEX).value());
    assertEquals(Math.pow(perFrame, frames), read.get(DocumentField.SEX).confidence(), 1e-9);
  }

  private static void place(float[] logits, DocumentField field, String spec, int frames) {
    String padded = (spec + "_".repeat(frames)).substring(0, frames);
    System.arraycopy(frames(padded), 0, logits, field.ordinal() * frames * C, frames * C);
  }
}
