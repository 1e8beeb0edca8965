package dev.docstream.adapters.registry;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where published adapters' PEFT folders are kept, by content: the same files are stored once, and
 * a stored blob is never rewritten. {@link DirectoryBlobStore} is a folder (embedded mode, or a
 * shared volume); an S3-compatible bucket implements the same two calls.
 */
public interface BlobStore {
  /** A stored blob: its URI in the store and the checksums a reader verifies it against. */
  record StoredBlob(String uri, String weightsSha256, String configSha256, long sizeBytes) {}

  /** Stores an adapter folder ({@code adapter_config.json}, {@code adapter_model.safetensors}). */
  StoredBlob put(Path folder) throws IOException;

  /**
   * A local folder holding the blob's two files (for a remote store, downloaded first). The caller
   * verifies them against the manifest's checksums ({@link Blobs#verify}).
   *
   * @throws java.io.FileNotFoundException when the store has no such blob
   */
  Path fetch(String uri) throws IOException;
}
