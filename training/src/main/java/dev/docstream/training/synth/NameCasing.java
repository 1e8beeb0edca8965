package dev.docstream.training.synth;

/** How a document type prints names: all capitals, or capitalised words. */
public enum NameCasing {
  UPPER,
  TITLE;

  /** Applies this casing to an upper-case name. */
  public String apply(String upperName) {
    if (this == UPPER) {
      return upperName;
    }
    StringBuilder out = new StringBuilder(upperName.length());
    boolean startOfWord = true;
    for (char c : upperName.toCharArray()) {
      out.append(startOfWord ? c : Character.toLowerCase(c));
      startOfWord = c == ' ' || c == '-';
    }
    return out.toString();
  }
}
