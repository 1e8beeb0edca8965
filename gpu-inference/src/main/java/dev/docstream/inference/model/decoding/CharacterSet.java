package dev.docstream.inference.model.decoding;

/**
 * The characters the model reads. Class 0 is the blank (no character at this frame); lower-case
 * letters read as their capitals, as the extracted fields are upper-case.
 */
public final class CharacterSet {
  /** The readable characters; class i + 1 is CHARS.charAt(i). */
  public static final String CHARS = " -./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  /** Number of classes including the blank. */
  public static final int CLASSES = CHARS.length() + 1;

  public static final int BLANK = 0;

  private CharacterSet() {}

  /** The class of a character, or -1 when the model cannot read it. */
  public static int classOf(char c) {
    int i = CHARS.indexOf(Character.toUpperCase(c));
    return i < 0 ? -1 : i + 1;
  }

  /** The character of a non-blank class. */
  public static char charOf(int cls) {
    return CHARS.charAt(cls - 1);
  }
}
