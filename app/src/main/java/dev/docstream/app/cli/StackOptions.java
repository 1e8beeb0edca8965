package dev.docstream.app.cli;

import dev.docstream.app.EmbeddedStack;
import java.nio.file.Path;

/** The embedded stack's options as the commands build them. */
final class StackOptions {
  /**
   * Images per forward pass in the embedded stack: {@code docstream bench} finds 8 to 16 fastest
   * per image on a 2-core CPU (32 takes 1.6-1.9 x as long per image); a GPU worker wants more.
   */
  static final int MICRO_BATCH = 8;

  private StackOptions() {}

  static EmbeddedStack.Options of(
      Path data, boolean fresh, int workers, Path models, int kafkaPort) {
    Checks.requireModels(models);
    return new EmbeddedStack.Options(
        data,
        fresh,
        workers,
        8,
        models.resolve("base"),
        models.resolve("adapters"),
        "docstream-" + ProcessHandle.current().pid(),
        MICRO_BATCH,
        kafkaPort);
  }
}
