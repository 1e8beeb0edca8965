package dev.docstream.inference.worker;

import com.sun.net.httpserver.HttpServer;
import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.inference.worker.internal.PollLoop;
import dev.docstream.schemas.ExtractionResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker's Micrometer metrics and an optional Prometheus scrape endpoint. Tags stay bounded:
 * worker id, cache hit/miss, result status and reason code; never a job id or document type.
 */
public final class WorkerMetrics
    implements ExtractionEngine.Listener, PollLoop.Observer, AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final DistributionSummary batchSize;
  private final Timer modelTime;
  private final Counter swaps;
  private final Timer swapTime;
  private final Counter cacheHits;
  private final Counter cacheMisses;
  private final Timer endToEnd;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger partitions = new AtomicInteger();
  private final AtomicInteger paused = new AtomicInteger();
  private final Counter pauses;
  private final Counter transactionFailures;
  private final DistributionSummary swapsPerPoll;
  private volatile long maxSwapsOverGroups = Long.MIN_VALUE;
  private final String workerId;
  private final java.util.EnumMap<ExtractionEngine.Stage, Timer> stages =
      new java.util.EnumMap<>(ExtractionEngine.Stage.class);
  private HttpServer server;

  public WorkerMetrics(String workerId) {
    this.workerId = workerId;
    registry.config().commonTags("worker", workerId);
    batchSize =
        DistributionSummary.builder("docstream.worker.batch.size")
            .description("Images per forward pass")
            .register(registry);
    modelTime =
        Timer.builder("docstream.worker.model.time")
            .description("Model time per micro-batch")
            .publishPercentiles(0.5, 0.95, 0.99)
            .register(registry);
    swaps =
        Counter.builder("docstream.worker.adapter.swaps")
            .description("Adapter merges of a different adapter")
            .register(registry);
    swapTime =
        Timer.builder("docstream.worker.adapter.swap.time")
            .description("Time to restore and merge")
            .register(registry);
    cacheHits =
        Counter.builder("docstream.worker.adapter.cache").tag("result", "hit").register(registry);
    cacheMisses =
        Counter.builder("docstream.worker.adapter.cache").tag("result", "miss").register(registry);
    endToEnd =
        Timer.builder("docstream.worker.e2e.latency")
            .description("Submitted-at to result")
            .publishPercentiles(0.5, 0.95, 0.99)
            .register(registry);
    registry.gauge("docstream.worker.in.flight", inFlight);
    registry.gauge("docstream.worker.paused", paused);
    registry.gauge("docstream.worker.partitions", partitions);
    pauses =
        Counter.builder("docstream.worker.pauses")
            .description("Times the worker paused its partitions (buffer full)")
            .register(registry);
    transactionFailures =
        Counter.builder("docstream.worker.transaction.failures")
            .description(
                "Batches whose transaction failed and was retried from the committed offsets")
            .register(registry);
    swapsPerPoll =
        DistributionSummary.builder("docstream.worker.poll.swaps")
            .description("Adapter swaps per poll")
            .register(registry);
    for (ExtractionEngine.Stage s : ExtractionEngine.Stage.values()) {
      stages.put(
          s,
          Timer.builder("docstream.worker.stage.time")
              .description("Time the worker's threads spent in one stage of the work")
              .tag("stage", s.name().toLowerCase(java.util.Locale.ROOT))
              .register(registry));
    }
  }

  @Override
  public void stage(ExtractionEngine.Stage stage, int jobs, long nanos) {
    stages.get(stage).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Seconds spent so far in each stage, for the bench's per-job breakdown. */
  public java.util.Map<ExtractionEngine.Stage, Double> stageSeconds() {
    java.util.Map<ExtractionEngine.Stage, Double> out =
        new java.util.EnumMap<>(ExtractionEngine.Stage.class);
    stages.forEach((s, t) -> out.put(s, t.totalTime(TimeUnit.SECONDS)));
    return out;
  }

  @Override
  public void processed(int requests, int groups, long swaps) {
    swapsPerPoll.record(swaps);
    maxSwapsOverGroups = Math.max(maxSwapsOverGroups, swaps - groups);
  }

  /**
   * The largest (swaps - distinct adapters) seen in one poll: never above 0 when grouping works.
   */
  public long maxSwapsOverGroups() {
    return maxSwapsOverGroups;
  }

  @Override
  public void swapped(String adapter, long nanos) {
    swaps.increment();
    swapTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void cacheLookup(boolean hit) {
    (hit ? cacheHits : cacheMisses).increment();
  }

  @Override
  public void microBatch(int size, long nanos) {
    batchSize.record(size);
    modelTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Records a committed result. */
  public void result(ExtractionResult r, Instant now) {
    Counter.builder("docstream.worker.results")
        .tag("status", r.getStatus().name())
        .tag("reason", r.getReason() == null ? "none" : r.getReason())
        .register(registry)
        .increment();
    endToEnd.record(Duration.between(r.getSubmittedAt(), now));
  }

  /** Records in flight: polled and not yet committed. */
  @Override
  public void assigned(int n) {
    partitions.set(n);
  }

  /** Partitions the worker owns now. */
  public int assignedPartitions() {
    return partitions.get();
  }

  @Override
  public void inFlight(int n) {
    inFlight.set(n);
  }

  /** The worker paused (true) or resumed (false) its partitions. */
  @Override
  public void paused(boolean on) {
    paused.set(on ? 1 : 0);
    if (on) {
      pauses.increment();
    }
  }

  /** A batch's transaction failed (it is retried). */
  @Override
  public void transactionFailed() {
    transactionFailures.increment();
  }

  /** Transactions that failed so far. */
  public long transactionFailures() {
    return (long) transactionFailures.count();
  }

  /** Batches the engine ran so far: one transaction each. */
  public long batches() {
    return swapsPerPoll.count();
  }

  /** Times the partitions were paused so far. */
  public long pauses() {
    return (long) pauses.count();
  }

  /** The registry, for tests and the embedded mode. */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Serves {@code /metrics} on the port (0 = any free port); returns the bound port. */
  public int serve(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
    registry.close();
  }

  @Override
  public String toString() {
    return "WorkerMetrics[" + workerId + "]";
  }
}
