package dev.docstream.adapters;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FieldFormatTest {
  @Test
  void shouldMatchTextOfItsLettersDigitsAndLength() {
    FieldFormat format = new FieldFormat("LLDA");
    assertTrue(format.matches("AB12"));
    assertTrue(format.matches("AB1C"));
    assertFalse(format.matches("A012"), "a digit where a letter is asked for");
    assertFalse(format.matches("ABC2"), "a letter where a digit is asked for");
    assertFalse(format.matches("AB1"), "too short");
    assertFalse(format.matches("AB12C"), "too long");
    assertFalse(format.matches("AB1-"), "neither letter nor digit");
    assertFalse(format.matches("ab12"), "lower case: fields are read upper-case");
  }

  @Test
  void shouldRejectPatternsOutsideItsAlphabet() {
    for (String bad : new String[] {"", "LLX", "ll", "L".repeat(FieldFormat.MAX_LENGTH + 1)}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> new FieldFormat(bad));
      assertTrue(e.getMessage().contains("L (letter), D (digit) and A (either)"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new FieldFormat(null));
  }
}
