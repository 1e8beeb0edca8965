package dev.docstream.adapters.registry;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Checksums of adapter files. */
public final class Blobs {
  private Blobs() {}

  /** The sha256 of a file, in hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest sha = digest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** The sha256 of a text, in hex. */
  static String sha256(String text) {
    return HexFormat.of()
        .formatHex(digest().digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /**
   * Checks a fetched folder against a manifest's checksums.
   *
   * @throws AdapterFormatException naming the file whose checksum differs (a corrupt or replaced
   *     blob)
   */
  public static void verify(Path folder, String weightsSha256, String configSha256)
      throws AdapterFormatException {
    check(folder.resolve(PeftAdapter.WEIGHTS), weightsSha256);
    if (!configSha256.isEmpty()) {
      check(folder.resolve(AdapterConfig.FILE), configSha256);
    }
  }

  private static void check(Path file, String expected) throws AdapterFormatException {
    String actual;
    try {
      actual = sha256(file);
    } catch (IOException e) {
      throw new AdapterFormatException(file, "cannot be read: " + e.getMessage(), e);
    }
    if (!actual.equals(expected)) {
      throw new AdapterFormatException(
          file,
          "checksum mismatch: sha256 "
              + actual.substring(0, 12)
              + "… but the manifest says "
              + (expected.length() > 12 ? expected.substring(0, 12) + "…" : expected));
    }
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
