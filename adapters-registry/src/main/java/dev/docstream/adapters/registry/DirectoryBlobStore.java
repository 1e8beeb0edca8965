package dev.docstream.adapters.registry;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Pattern;

/**
 * Blobs as folders {@code <root>/<digest>/}, the digest a sha256 over both files' checksums, with
 * URIs {@code sha256:<digest>}. A blob is written to a temporary folder and moved into place, so a
 * reader never sees half a blob.
 */
public final class DirectoryBlobStore implements BlobStore {
  private static final String SCHEME = "sha256:";
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  private final Path root;

  public DirectoryBlobStore(Path root) {
    this.root = root;
  }

  /** The store's folder. */
  public Path root() {
    return root;
  }

  @Override
  public StoredBlob put(Path folder) throws IOException {
    Path weights = folder.resolve(PeftAdapter.WEIGHTS);
    Path config = folder.resolve(AdapterConfig.FILE);
    String weightsSha = Blobs.sha256(weights);
    String configSha = Blobs.sha256(config);
    String digest = Blobs.sha256(configSha + ":" + weightsSha);
    Path target = root.resolve(digest);
    StoredBlob blob = new StoredBlob(SCHEME + digest, weightsSha, configSha, Files.size(weights));
    if (Files.isDirectory(target)) {
      return blob; // the same content is stored once
    }
    Files.createDirectories(root);
    Path tmp = Files.createTempDirectory(root, ".incoming-");
    try {
      Files.copy(weights, tmp.resolve(PeftAdapter.WEIGHTS));
      Files.copy(config, tmp.resolve(AdapterConfig.FILE));
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target);
      }
    } catch (IOException e) {
      if (!Files.isDirectory(target)) {
        throw e;
      } // else another publisher stored the same content first
    } finally {
      deleteQuietly(tmp);
    }
    return blob;
  }

  @Override
  public Path fetch(String uri) throws IOException {
    String digest = uri.startsWith(SCHEME) ? uri.substring(SCHEME.length()) : "";
    if (!DIGEST.matcher(digest).matches()) {
      throw new FileNotFoundException("'" + uri + "' is not a blob URI of this store");
    }
    Path dir = root.resolve(digest);
    if (!Files.isDirectory(dir)) {
      throw new FileNotFoundException("blob " + uri + " is not in the store at " + root);
    }
    return dir;
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.walk(dir)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      // a leftover temporary folder is harmless
    }
  }
}
