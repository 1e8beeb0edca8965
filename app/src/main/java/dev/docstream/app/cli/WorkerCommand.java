package dev.docstream.app.cli;

import dev.docstream.inference.worker.InferenceWorker;
import dev.docstream.inference.worker.WorkerConfig;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code docstream worker}. */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description =
        "Run one inference worker against a Kafka cluster: consume extraction.requests, merge each document "
            + "type's LoRA adapter, run batched inference, commit results and offsets in one transaction per batch. "
            + "Stops cleanly on Ctrl-C.")
final class WorkerCommand implements Callable<Integer> {
  @Mixin ComponentSettings settings;

  @Override
  public Integer call() throws Exception {
    WorkerConfig c =
        new WorkerConfig(
                settings.read(
                    WorkerConfig.definition(),
                    Set.of(WorkerConfig.CONSUMER_PREFIX, WorkerConfig.PRODUCER_PREFIX)))
            .validate();
    Checks.requireBroker(c.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG));
    Checks.requireRegistry(c.getString(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG));
    InferenceWorker worker = InferenceWorker.create(c);
    int port = c.getInt(WorkerConfig.METRICS_PORT_CONFIG);
    if (port >= 0) {
      System.out.println("metrics: http://localhost:" + worker.metrics().serve(port) + "/metrics");
    }
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  worker.stop();
                  try {
                    closed.await(30, TimeUnit.SECONDS); // the worker commits its batch, then closes
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                },
                "worker-shutdown"));
    System.out.println(
        "worker "
            + c.workerId()
            + " running against "
            + c.getString(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG)
            + "; Ctrl-C to stop");
    try {
      worker.run();
    } finally {
      worker.close();
      System.out.println(
          "worker " + c.workerId() + " stopped after " + worker.committedResults() + " results");
      closed.countDown();
    }
    return 0;
  }
}
