package dev.docstream.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class CliArgsTest {
  @Test
  void shouldSeeAHelpRequestAnywhereOnTheLine() {
    assertTrue(CliArgs.asksForHelp(new String[0]));
    assertTrue(CliArgs.asksForHelp(new String[] {"help"}));
    assertTrue(CliArgs.asksForHelp(new String[] {"bench", "--help"}));
    assertTrue(CliArgs.asksForHelp(new String[] {"adapter", "--rank", "8", "-h"}));
    assertFalse(CliArgs.asksForHelp(new String[] {"adapter", "--rank", "8"}));
  }

  @Test
  void shouldParseKnownOptionsAndNameTheUnknownOne() {
    CliArgs a = new CliArgs(new String[] {"ship", "--rank", "32", "--lr=0.005"}, 1, Set.of("rank", "lr", "steps"));
    assertEquals(32, a.getInt("rank", 16));
    assertEquals(0.005f, a.getFloat("lr", 0.01f));
    assertEquals(600, a.getInt("steps", 600));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CliArgs(new String[] {"ship", "--rnak", "32"}, 1, Set.of("rank")));
    assertEquals("unknown option --rnak (see --help)", e.getMessage());
  }
}
