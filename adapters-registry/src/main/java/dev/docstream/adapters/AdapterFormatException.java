package dev.docstream.adapters;

import java.nio.file.Path;

/** An adapter folder that cannot be used, naming the file and what is wrong with it. */
public final class AdapterFormatException extends Exception {
  private final Path file;

  public AdapterFormatException(Path file, String problem) {
    this(file, problem, null);
  }

  public AdapterFormatException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The offending file. */
  public Path file() {
    return file;
  }
}
