package dev.docstream.topology.images;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * The claim check for document images: intake stores each accepted job's image once, under its
 * sha256, and QC review fetches it by that. Identity images are personal data, so a store keeps
 * each image for a retention period only: {@link #get} no longer returns an expired image and
 * {@link #sweep} deletes them. A local folder today ({@link DirectoryImageStore}); the interface is
 * what an S3-compatible bucket with a lifecycle rule would implement.
 */
public interface ImageStore {
  /**
   * Stores an image under its sha256 (lower-case hex, already checked against the bytes by the
   * caller). Storing the same image again renews its retention and writes nothing else.
   */
  void put(String sha256, byte[] image) throws IOException;

  /** The image, if it is stored and not expired. */
  Optional<byte[]> get(String sha256) throws IOException;

  /** Deletes every image stored longer ago than the retention period; returns how many. */
  int sweep(Instant now) throws IOException;

  /** Whether {@code s} is a sha256 in lower-case hex: the only names a store accepts. */
  static boolean isSha256(String s) {
    return s != null
        && s.length() == 64
        && s.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f');
  }
}
