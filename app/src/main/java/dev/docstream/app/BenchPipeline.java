package dev.docstream.app;

import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.inference.worker.InferenceWorker;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The bench's measurements through Kafka: the pipeline, and the worker alone, on an embedded stack.
 */
final class BenchPipeline {
  /** Milliseconds from each run's start to its first result (the bench is single-threaded). */
  private static final List<Double> firstResultMs = new ArrayList<>();

  private BenchPipeline() {}

  static Bench.Run pipeline(
      Path models,
      Path adapters,
      List<LoadGenerator.Job> jobs,
      int reps,
      Path data,
      int types,
      int microBatch,
      Map<String, String> worker)
      throws IOException {
    EmbeddedStack.Options o =
        new EmbeddedStack.Options(
            data,
            true,
            1,
            8,
            models.resolve("base"),
            adapters,
            "bench-" + types,
            microBatch,
            0,
            worker);
    try (EmbeddedStack stack = EmbeddedStack.start(o)) {
      return profiled(
          stack,
          "pipeline through Kafka (intake + 1 worker), " + types + " document types",
          reps,
          jobs.size(),
          () -> sendAndWait(stack, jobs));
    }
  }

  /** Runs {@code work} once to warm up, then {@code reps} times timed and profiled. */
  private static Bench.Run profiled(
      EmbeddedStack stack, String name, int reps, int jobs, Runnable work) {
    System.err.println("bench: " + name + " ...");
    work.run();
    InferenceWorker worker = stack.workers().get(0);
    CpuProfile.Snapshot before = CpuProfile.take(stack.brokerPid());
    Map<ExtractionEngine.Stage, Double> stagesBefore = worker.metrics().stageSeconds();
    long swapsBefore = worker.engine().swaps();
    long batchesBefore = worker.metrics().batches();
    double[] ms = new double[Math.max(1, reps)];
    firstResultMs.clear();
    for (int i = 0; i < ms.length; i++) {
      ms[i] = Bench.time(work) / 1e6;
    }
    double firstMs =
        firstResultMs.stream()
            .mapToDouble(Double::doubleValue)
            .sorted()
            .toArray()[firstResultMs.size() / 2];
    CpuProfile.Snapshot after = CpuProfile.take(stack.brokerPid());
    int total = jobs * ms.length;
    Map<String, Double> stages = new LinkedHashMap<>();
    worker
        .metrics()
        .stageSeconds()
        .forEach(
            (s, sec) ->
                stages.put(
                    s.name().toLowerCase(Locale.ROOT).replace('_', ' '),
                    (sec - stagesBefore.get(s)) * 1000 / total));
    Arrays.sort(ms);
    return new Bench.Run(
        new Bench.Figure(
            name, "images/s", jobs / (ms[0] / 1000), jobs / (ms[ms.length / 2] / 1000)),
        CpuProfile.perJob(before, after, total, CpuProfile.PIPELINE),
        stages,
        (worker.engine().swaps() - swapsBefore) * 1000.0 / total,
        firstMs,
        total / (double) Math.max(1, worker.metrics().batches() - batchesBefore));
  }

  /** The worker alone through Kafka: requests produced straight to extraction.requests. */
  static Bench.Run workerOnly(
      Path models,
      Path adapters,
      List<ExtractionRequest> requests,
      int reps,
      Path data,
      int microBatch,
      Map<String, String> worker)
      throws IOException {
    EmbeddedStack.Options o =
        new EmbeddedStack.Options(
            data,
            true,
            1,
            8,
            models.resolve("base"),
            adapters,
            "bench-worker",
            microBatch,
            0,
            worker);
    try (EmbeddedStack stack = EmbeddedStack.start(o)) {
      var serde = Topics.EXTRACTION_REQUESTS.valueSerde(stack.registry());
      String topic = Topics.EXTRACTION_REQUESTS.name();
      return profiled(
          stack,
          "worker alone through Kafka (1 worker, same jobs), 8 document types",
          reps,
          requests.size(),
          () -> {
            String run = Long.toString(System.nanoTime(), 36);
            awaitResults(
                stack,
                run,
                requests.size(),
                () -> {
                  try (var producer =
                      new KafkaProducer<>(
                          Map.<String, Object>of(
                              ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                              stack.bootstrapServers(),
                              ProducerConfig.LINGER_MS_CONFIG,
                              5),
                          new StringSerializer(),
                          new ByteArraySerializer())) {
                    for (ExtractionRequest r : requests) {
                      ExtractionRequest fresh =
                          ExtractionRequest.newBuilder(r)
                              .setJobId(r.getJobId() + "-" + run)
                              .setSubmittedAt(Instant.now())
                              .build();
                      producer.send(
                          new ProducerRecord<>(
                              topic, r.getDocumentType(), serde.serialize(topic, fresh)));
                    }
                  }
                });
          });
    }
  }

  private static void sendAndWait(EmbeddedStack stack, List<LoadGenerator.Job> jobs) {
    String run = Long.toString(System.nanoTime(), 36);
    List<LoadGenerator.Job> fresh = new ArrayList<>();
    for (LoadGenerator.Job j : jobs) {
      String id = j.jobId() + "-" + run; // new ids: the dedupe window would drop a repeat
      fresh.add(
          new LoadGenerator.Job(
              id,
              j.documentType(),
              dev.docstream.schemas.VerificationJob.newBuilder(j.job()).setJobId(id).build(),
              j.truth(),
              null));
    }
    awaitResults(
        stack,
        run,
        fresh.size(),
        () -> LoadGenerator.produce(stack.bootstrapServers(), stack.registry(), fresh, 0));
  }

  /**
   * Appends the per-job breakdown of the runs through Kafka: CPU milliseconds per job by thread
   * group, the worker's milliseconds per job by stage, and swaps per 1,000 jobs; a column per run.
   */
  static void breakdown(StringBuilder md, List<Bench.Run> runs) {
    if (runs.isEmpty()) {
      return;
    }
    md.append(
        "\nPer job, over the timed repetitions: CPU ms by thread group; worker ms by stage.\n\n|");
    runs.forEach(x -> md.append(" | ").append(x.figure().name()));
    md.append(" |\n| ---").append(" | ---:".repeat(runs.size())).append(" |\n");
    for (String k : runs.get(0).cpuMsPerJob().keySet()) {
      md.append("| CPU: ").append(k);
      runs.forEach(x -> md.append(String.format(" | %.2f", x.cpuMsPerJob().getOrDefault(k, 0.0))));
      md.append(" |\n");
    }
    for (String k : runs.get(0).stageMsPerJob().keySet()) {
      md.append("| worker stage: ").append(k);
      runs.forEach(
          x -> md.append(String.format(" | %.2f", x.stageMsPerJob().getOrDefault(k, 0.0))));
      md.append(" |\n");
    }
    md.append("| adapter swaps per 1,000 jobs");
    runs.forEach(x -> md.append(String.format(" | %.1f", x.swapsPer1000())));
    md.append(" |\n| jobs per batch (one transaction each)");
    runs.forEach(x -> md.append(String.format(" | %.1f", x.jobsPerBatch())));
    md.append(" |\n| time to the first result, median (ms)");
    runs.forEach(x -> md.append(String.format(" | %.0f", x.firstResultMs())));
    md.append(" |\n");
  }

  /**
   * CPU milliseconds per job a run spent outside the worker's inference, decode and PyTorch
   * threads: the broker, intake, the load generator, polling and the rest; what the model alone
   * does not spend.
   */
  static double outsideModelMs(Bench.Run run) {
    Map<String, Double> cpu = run.cpuMsPerJob();
    double model =
        cpu.getOrDefault("worker: inference thread", 0.0)
            + cpu.getOrDefault("worker: decode thread (requests, images)", 0.0)
            + cpu.getOrDefault("worker: read-out thread (output decoding)", 0.0)
            + cpu.getOrDefault(
                "this process, not Java threads (PyTorch intra-op pool, GC, JIT)", 0.0);
    return cpu.get("total") - model;
  }

  /** Runs {@code send} and waits until {@code expected} results of this run are committed. */
  private static void awaitResults(EmbeddedStack stack, String run, int expected, Runnable send) {
    Map<String, Object> cfg =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            stack.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            "bench-" + run,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "latest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed");
    try (var consumer =
        new KafkaConsumer<>(cfg, new StringDeserializer(), new ByteArrayDeserializer())) {
      long t0 = System.nanoTime();
      consumer.subscribe(List.of(Topics.EXTRACTION_RESULTS.name()));
      while (consumer.assignment().isEmpty()) {
        consumer.poll(Duration.ofMillis(50));
      }
      // Resolve "latest" now: resolved lazily, it could land after the first results and skip
      // them, and the run would wait out its timeout.
      consumer.assignment().forEach(consumer::position);
      send.run();
      int seen = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (seen < expected && System.nanoTime() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(50))) {
          if (seen == 0) {
            firstResultMs.add((System.nanoTime() - t0) / 1e6);
          }
          seen += r.key().endsWith("-" + run) ? 1 : 0;
        }
      }
      if (seen < expected) {
        throw new IllegalStateException(
            "pipeline returned " + seen + " of " + expected + " results in 10 minutes");
      }
    }
  }
}
