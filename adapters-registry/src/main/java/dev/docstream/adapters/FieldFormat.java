package dev.docstream.adapters;

/**
 * What a field of one document type looks like, one symbol per printed character: {@code L} a
 * letter A-Z, {@code D} a digit 0-9, {@code A} either. A document type's number format ("two
 * letters then seven digits": {@code LLDDDDDDD}) is known to whoever issues the document; an
 * adapter carries it in {@code adapter_config.json} and the decoder reads only text that fits.
 *
 * @param pattern the symbols, 1 to {@link #MAX_LENGTH} of L, D and A
 */
public record FieldFormat(String pattern) {
  /** Longest pattern accepted. */
  public static final int MAX_LENGTH = 32;

  public FieldFormat {
    if (pattern == null
        || pattern.isEmpty()
        || pattern.length() > MAX_LENGTH
        || !pattern.chars().allMatch(c -> c == 'L' || c == 'D' || c == 'A')) {
      throw new IllegalArgumentException(
          "a field format is 1 to "
              + MAX_LENGTH
              + " of L (letter), D (digit) and A (either), got '"
              + pattern
              + "'");
    }
  }

  /** Number of characters a matching text has. */
  public int length() {
    return pattern.length();
  }

  /** Whether {@code c} may stand at {@code position} (0-based). */
  public boolean allows(int position, char c) {
    boolean letter = c >= 'A' && c <= 'Z';
    boolean digit = c >= '0' && c <= '9';
    return switch (pattern.charAt(position)) {
      case 'L' -> letter;
      case 'D' -> digit;
      default -> letter || digit;
    };
  }

  /** Whether {@code text} fits the format. */
  public boolean matches(String text) {
    if (text.length() != pattern.length()) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      if (!allows(i, text.charAt(i))) {
        return false;
      }
    }
    return true;
  }
}
