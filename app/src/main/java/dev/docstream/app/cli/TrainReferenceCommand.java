package dev.docstream.app.cli;

import dev.docstream.training.internal.BatchFeed;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream train reference}. */
@Command(
    name = "reference",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description = "Write a parity file: 8 rendered images and the Java model's logits for them.")
final class TrainReferenceCommand implements Callable<Integer> {
  @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
  Path base;

  @Option(names = "--out", required = true, description = "Output file.")
  Path out;

  @Option(names = "--seed", defaultValue = "5", description = "Seed.")
  long seed;

  @Override
  public Integer call() throws Exception {
    BatchFeed.writeReference(base, 8, seed, out);
    return 0;
  }
}
