package dev.docstream.topology.images;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Images in a local folder, one file per sha256 under a two-character fan-out folder ({@code
 * ab/ab12...}). A file's modification time is when it was last stored: retention counts from there.
 * Writes go to a temporary file first and are moved into place, so a reader never sees half an
 * image.
 */
public final class DirectoryImageStore implements ImageStore {
  private final Path root;
  private final Duration retention;
  private final Clock clock;

  public DirectoryImageStore(Path root, Duration retention, Clock clock) {
    this.root = root;
    this.retention = retention;
    this.clock = clock;
  }

  /** The folder. */
  public Path root() {
    return root;
  }

  @Override
  public void put(String sha256, byte[] image) throws IOException {
    Path file = fileOf(sha256);
    FileTime now = FileTime.from(clock.instant());
    if (Files.exists(file)) {
      Files.setLastModifiedTime(file, now);
      return;
    }
    Files.createDirectories(file.getParent());
    Path tmp = Files.createTempFile(file.getParent(), sha256, ".tmp");
    try {
      Files.write(tmp, image);
      Files.setLastModifiedTime(tmp, now);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public Optional<byte[]> get(String sha256) throws IOException {
    Path file = fileOf(sha256);
    try {
      if (expired(file, clock.instant())) {
        return Optional.empty();
      }
      return Optional.of(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public int sweep(Instant now) throws IOException {
    if (!Files.isDirectory(root)) {
      return 0;
    }
    List<Path> files;
    try (Stream<Path> walk = Files.walk(root, 2)) {
      files = walk.filter(Files::isRegularFile).toList();
    }
    int deleted = 0;
    for (Path f : files) {
      try {
        if (expired(f, now) && Files.deleteIfExists(f)) {
          deleted++;
        }
      } catch (NoSuchFileException | UncheckedIOException e) {
        // deleted by a concurrent sweep: nothing to do
      }
    }
    return deleted;
  }

  private boolean expired(Path file, Instant now) throws IOException {
    return Files.getLastModifiedTime(file).toInstant().plus(retention).isBefore(now);
  }

  private Path fileOf(String sha256) {
    if (!ImageStore.isSha256(sha256)) {
      // Never a path from outside: only 64 hex characters name a file here.
      throw new IllegalArgumentException("not a lower-case hex sha256: an image is named by one");
    }
    return root.resolve(sha256.substring(0, 2)).resolve(sha256);
  }
}
