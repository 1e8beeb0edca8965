package dev.docstream.app.cli;

import dev.docstream.training.synth.DocumentTypes;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code docstream train types}. */
@Command(
    name = "types",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description = "List held-out document types.")
final class TrainTypesCommand implements Callable<Integer> {
  @Option(names = "--count", defaultValue = "8", description = "How many.")
  int count;

  @Override
  public Integer call() {
    DocumentTypes.heldOut(count).forEach(System.out::println);
    return 0;
  }
}
