package dev.docstream.inference.worker;

import dev.docstream.config.CommandLineProperties;
import org.apache.kafka.common.config.ConfigException;

/**
 * Runs one inference worker against a Kafka cluster: {@code worker [--config FILE] [key=value
 * ...]}. Stops cleanly on SIGTERM/Ctrl-C.
 */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("Usage: worker [--config FILE] [key=value ...]\n\n"
          + "Consumes extraction.requests, merges each document type's LoRA adapter, runs batched\n"
          + "inference, and commits results and offsets in one transaction per poll.\n\n"
          + "Keys prefixed consumer. or producer. go to the Kafka clients (e.g. producer.max.block.ms=30000).\n\n"
          + "Configuration keys:\n" + WorkerConfig.definition().toRst());
      return;
    }
    WorkerConfig config;
    try {
      config = new WorkerConfig(CommandLineProperties.parse(args)).validate();
    } catch (ConfigException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }
    InferenceWorker worker = InferenceWorker.create(config);
    int port = config.getInt(WorkerConfig.METRICS_PORT_CONFIG);
    if (port >= 0) {
      System.out.println("metrics: http://localhost:" + worker.metrics().serve(port) + "/metrics");
    }
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.stop();
      try {
        main.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "worker-shutdown"));
    try {
      worker.run();
    } finally {
      worker.close();
    }
  }
}
