package dev.docstream.inference.worker;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
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
          + "Configuration keys:\n" + WorkerConfig.definition().toRst());
      return;
    }
    WorkerConfig config;
    try {
      config = new WorkerConfig(parse(args)).validate();
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

  static Properties parse(String[] args) throws java.io.IOException {
    Properties p = new Properties();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        try (Reader r = Files.newBufferedReader(Path.of(args[++i]))) {
          p.load(r);
        }
      } else if (args[i].contains("=")) {
        String[] kv = args[i].split("=", 2);
        p.put(kv[0], kv[1]);
      } else {
        throw new ConfigException("unexpected argument '" + args[i] + "' (see --help)");
      }
    }
    return p;
  }
}
