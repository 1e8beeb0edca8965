package dev.docstream.app.cli;

import dev.docstream.app.EmbeddedStack;
import java.nio.file.Path;

/** The embedded stack's options as the commands build them. */
final class StackOptions {
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
        32,
        kafkaPort);
  }
}
