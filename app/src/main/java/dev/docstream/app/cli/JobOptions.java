package dev.docstream.app.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** The synthetic jobs a command sends ({@code demo}, {@code load}): how many, how bad, how fast. */
final class JobOptions {
  @Option(names = "--jobs", defaultValue = "1500", description = "Jobs to send.")
  int jobs;

  @Option(names = "--bad", defaultValue = "0.02", description = "Share of bad jobs, 0 to 1.")
  double bad;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description =
          "Jobs per second; 0 = as fast as possible (latency then includes the wait behind the backlog).")
  double rate;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Seed of the synthetic jobs (job ids include it).")
  long seed;

  /** Refuses values no run can use, before any work starts. */
  void validate(CommandSpec spec) {
    if (jobs < 1 || bad < 0 || bad > 1 || rate < 0) {
      throw new ParameterException(
          spec.commandLine(), "--jobs must be at least 1, --bad within 0..1, --rate at least 0");
    }
  }
}
