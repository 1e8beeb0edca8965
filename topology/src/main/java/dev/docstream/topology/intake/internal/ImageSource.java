package dev.docstream.topology.intake.internal;

import dev.docstream.schemas.errors.DeadLetterReason;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Fetches images given by reference. Only {@code file:} URIs under a configured root are accepted,
 * so a job cannot make intake read arbitrary files.
 */
public final class ImageSource {
  private final Path root;
  private final int maxBytes;

  /**
   * @param root folder references must lie under, or null to refuse every reference
   */
  public ImageSource(Path root, int maxBytes) {
    this.root = root;
    this.maxBytes = maxBytes;
  }

  /** Thrown when a reference cannot be fetched; carries the reason code. */
  public static final class FetchException extends Exception {
    private final Rejection rejection;

    FetchException(DeadLetterReason reason, String detail) {
      super(reason + ": " + detail);
      this.rejection = new Rejection(reason, detail);
    }

    public Rejection rejection() {
      return rejection;
    }
  }

  /**
   * The local file a reference names. Only a hierarchical {@code file:} URI with an absolute path
   * and nothing else (no host, query or fragment) names one; {@code Path.of(URI)} throws on the
   * others, and a NUL in the path is refused by the file system.
   */
  private Path localPath(String uri) throws FetchException {
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (java.net.URISyntaxException e) {
      throw new FetchException(
          DeadLetterReason.IMAGE_UNREADABLE, "image reference is not a valid URI");
    }
    if (!"file".equalsIgnoreCase(parsed.getScheme()) || root == null) {
      throw new FetchException(
          DeadLetterReason.IMAGE_UNREADABLE,
          "image reference scheme is not served (only file: under the configured root)");
    }
    if (parsed.isOpaque()
        || parsed.getRawAuthority() != null
        || parsed.getRawQuery() != null
        || parsed.getRawFragment() != null
        || parsed.getPath() == null
        || parsed.getPath().isEmpty()) {
      throw new FetchException(
          DeadLetterReason.IMAGE_UNREADABLE,
          "image reference must be file:/absolute/path, without host, query or fragment");
    }
    try {
      return Path.of(new URI("file", null, parsed.getPath(), null)).toAbsolutePath().normalize();
    } catch (java.net.URISyntaxException
        | IllegalArgumentException
        | FileSystemNotFoundException e) {
      // IllegalArgumentException includes InvalidPathException (a NUL in the path)
      throw new FetchException(
          DeadLetterReason.IMAGE_UNREADABLE,
          "image reference names no local file: " + e.getClass().getSimpleName());
    }
  }

  /** The referenced bytes. */
  public byte[] fetch(String uri) throws FetchException {
    Path path = localPath(uri);
    if (!path.startsWith(root)) {
      throw new FetchException(
          DeadLetterReason.IMAGE_UNREADABLE, "image reference lies outside the image root");
    }
    try {
      long size = Files.size(path);
      if (size > maxBytes) {
        throw new FetchException(
            DeadLetterReason.IMAGE_TOO_LARGE,
            "referenced image has " + size + " bytes, limit " + maxBytes);
      }
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new FetchException(DeadLetterReason.MISSING_IMAGE, "referenced image does not exist");
    } catch (IOException e) {
      throw new FetchException(
          DeadLetterReason.IMAGE_UNREADABLE,
          "referenced image could not be read: " + e.getClass().getSimpleName());
    }
  }
}
