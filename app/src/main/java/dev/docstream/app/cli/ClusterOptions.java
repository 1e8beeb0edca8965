package dev.docstream.app.cli;

import picocli.CommandLine.Option;

/** Where a client command finds the cluster; the defaults reach a {@code docstream up} here. */
final class ClusterOptions {
  @Option(
      names = "--bootstrap",
      defaultValue = "localhost:9092",
      description = "Kafka bootstrap servers.")
  String bootstrap;

  @Option(
      names = "--registry",
      defaultValue = "http://localhost:8081",
      description = "Schema registry URL.")
  String registry;

  /** Fails in seconds, naming the address, when the broker or the registry does not answer. */
  void requireReachable() {
    Checks.requireBroker(bootstrap);
    Checks.requireRegistry(registry);
  }
}
