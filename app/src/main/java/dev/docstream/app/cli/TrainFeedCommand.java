package dev.docstream.app.cli;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.BaseTraining;
import dev.docstream.training.internal.BatchFeed;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream train feed}. */
@Command(
    name = "feed",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Write rendered base-training batches to stdout (for training/gpu/train_base_gpu.py).")
final class TrainFeedCommand implements Callable<Integer> {
  @Option(names = "--types", defaultValue = "300", description = "Base document types.")
  int types;

  @Option(names = "--batch", defaultValue = "256", description = "Images per batch.")
  int batch;

  @Option(names = "--seed", defaultValue = "7", description = "Seed.")
  long seed;

  @Option(names = "--threads", description = "Render threads (default: cores - 1).")
  Integer threads;

  @Option(
      names = "--batches",
      defaultValue = "-1",
      description = "Batches; negative = until stdout closes.")
  long batches;

  @Override
  public Integer call() throws Exception {
    int n = threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    PrintStream stdout = System.out;
    System.setOut(System.err); // stdout carries only batches: anything else printed goes to stderr
    try (OutputStream out = new BufferedOutputStream(stdout, 1 << 20)) {
      BatchFeed.write(
          BaseTraining.baseTypes(types), batch, ModelConfig.standard(), seed, n, batches, out);
    } catch (IOException e) {
      // the reading trainer closed the pipe: the normal way a feed ends
    }
    return 0;
  }
}
