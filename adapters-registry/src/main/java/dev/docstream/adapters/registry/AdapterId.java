package dev.docstream.adapters.registry;

/**
 * An adapter's identity, {@code <document type>@<version>}: immutable, never rewritten.
 *
 * @param documentType the document type it serves
 * @param version its version, from 1, increasing per document type
 */
public record AdapterId(String documentType, int version) {
  public AdapterId {
    if (documentType == null || documentType.isBlank() || documentType.contains("@")) {
      throw new IllegalArgumentException("document type must be non-blank, without '@'");
    }
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1, got " + version);
    }
  }

  /**
   * Parses {@code T@v}.
   *
   * @throws RegistryException naming the text when it is not of that form
   */
  public static AdapterId parse(String text) throws RegistryException {
    int at = text.lastIndexOf('@');
    if (at <= 0 || at == text.length() - 1) {
      throw new RegistryException(
          "'" + text + "' is not an adapter id; expected <document type>@<version>");
    }
    try {
      return new AdapterId(text.substring(0, at), Integer.parseInt(text.substring(at + 1)));
    } catch (IllegalArgumentException e) {
      throw new RegistryException(
          "'"
              + text
              + "' is not an adapter id; expected <document type>@<version> with version >= 1");
    }
  }

  @Override
  public String toString() {
    return documentType + "@" + version;
  }
}
