package dev.docstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.docstream.inference.worker.InferenceWorker;
import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.training.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * {@code docstream demo}: the embedded stack end to end on synthetic jobs, with a summary of
 * throughput, latency, adapter swaps, accuracy per document type and dead letters.
 */
public final class Demo {
  /** What the demo measured; written as summary.json. */
  public record Summary(
      int jobs,
      int goodJobs,
      int badJobs,
      int results,
      int missingResults,
      int duplicateResults,
      double seconds,
      double jobsPerSecond,
      double latencyP50Ms,
      double latencyP95Ms,
      double latencyP99Ms,
      long adapterSwaps,
      double cacheHits,
      double cacheMisses,
      double fieldExactMatch,
      Map<String, Double> fieldExactMatchByType,
      Map<String, Integer> jobsByType,
      Map<String, Integer> resultsByStatus,
      Map<String, Integer> deadLettersByReason,
      Map<String, Integer> expectedDeadLetters,
      DemoQc.Summary qc) {}

  private Demo() {}

  /** Runs the demo on a started stack and writes summary.json and summary.md to {@code out}. */
  public static Summary run(
      EmbeddedStack stack, int count, double badShare, double rate, long seed, Path out)
      throws IOException {
    return run(stack, count, badShare, rate, seed, out, null);
  }

  /**
   * As {@link #run(EmbeddedStack, int, double, double, long, Path)}, closing the QC loop when
   * {@code qc} is given: results sampled for review, simulated analysts, quality per adapter.
   */
  public static Summary run(
      EmbeddedStack stack,
      int count,
      double badShare,
      double rate,
      long seed,
      Path out,
      DemoQc.Settings qc)
      throws IOException {
    List<String> types = new ArrayList<>(stack.documentTypes());
    if (types.isEmpty()) {
      throw new IllegalStateException(
          "no adapters found: the demo needs the shipped models under models/");
    }
    List<LoadGenerator.Job> jobs = LoadGenerator.generate(types, count, 1.1, badShare, seed);
    Map<String, LoadGenerator.Job> good = new HashMap<>();
    Map<String, Integer> expectedDead = new TreeMap<>();
    for (LoadGenerator.Job j : jobs) {
      if (j.badReason() == null) {
        good.put(j.jobId(), j);
      } else {
        expectedDead.merge(j.badReason(), 1, Integer::sum);
      }
    }
    int badCount = jobs.size() - good.size();
    DemoQc review = qc == null ? null : DemoQc.start(stack, qc);
    Thread producer =
        new Thread(
            () -> LoadGenerator.produce(stack.bootstrapServers(), stack.registry(), jobs, rate),
            "demo-producer");
    long t0;

    AvroSerde<ExtractionResult> results = Topics.EXTRACTION_RESULTS.valueSerde(stack.registry());
    AvroSerde<DeadLetter> dead = Topics.VERIFICATION_JOBS_DLQ.valueSerde(stack.registry());
    Map<String, ExtractionResult> byJob = new HashMap<>();
    int duplicates = 0;
    List<Double> latencies = new ArrayList<>();
    Map<String, Integer> deadByReason = new TreeMap<>();
    int deadCount = 0;
    Map<String, Object> cfg =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            stack.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            "demo-" + System.nanoTime(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "latest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed");
    Progress progress = new Progress("demo", good.size() + badCount);
    long lastProgress = 0;
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    long endNanos;
    try (var consumer =
        new KafkaConsumer<>(cfg, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(
          List.of(Topics.EXTRACTION_RESULTS.name(), Topics.VERIFICATION_JOBS_DLQ.name()));
      // Joined and "latest" resolved before the first job goes out: resolved lazily, it could
      // land after the first results and skip them.
      while (consumer.assignment().isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(50));
      }
      consumer.assignment().forEach(consumer::position);
      t0 = System.nanoTime();
      producer.start();
      while ((byJob.size() < good.size() || deadCount < badCount) && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          if (r.topic().equals(Topics.EXTRACTION_RESULTS.name())) {
            ExtractionResult res = results.deserialize(r.topic(), r.value());
            if (byJob.put(res.getJobId(), res) != null) {
              duplicates++;
            }
            latencies.add(
                (double) (System.currentTimeMillis() - res.getSubmittedAt().toEpochMilli()));
          } else {
            deadByReason.merge(dead.deserialize(r.topic(), r.value()).getReason(), 1, Integer::sum);
            deadCount++;
          }
        }
        if (System.nanoTime() - lastProgress > 500_000_000L) {
          progress.update(
              byJob.size() + deadCount,
              String.format("%d results, %d dead letters", byJob.size(), deadCount));
          lastProgress = System.nanoTime();
        }
      }
      endNanos = System.nanoTime();
      progress.update(
          byJob.size() + deadCount,
          String.format("%d results, %d dead letters", byJob.size(), deadCount));
    }
    try {
      producer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (review != null) {
      System.err.println("QC: the simulated analysts are emptying the review queues ...");
    }
    DemoQc.Summary qcSummary = review == null ? null : review.finish(good, byJob);
    Summary s =
        summarise(
            stack,
            jobs,
            good,
            byJob,
            duplicates,
            latencies,
            deadByReason,
            expectedDead,
            (endNanos - t0) / 1e9,
            qcSummary);
    write(s, out);
    return s;
  }

  private static Summary summarise(
      EmbeddedStack stack,
      List<LoadGenerator.Job> jobs,
      Map<String, LoadGenerator.Job> good,
      Map<String, ExtractionResult> byJob,
      int duplicates,
      List<Double> latencies,
      Map<String, Integer> deadByReason,
      Map<String, Integer> expectedDead,
      double seconds,
      DemoQc.Summary qc) {
    Map<String, int[]> perType = new TreeMap<>();
    Map<String, Integer> byStatus = new TreeMap<>();
    Set<String> missing = new HashSet<>(good.keySet());
    long exact = 0;
    long fields = 0;
    for (ExtractionResult r : byJob.values()) {
      LoadGenerator.Job j = good.get(r.getJobId());
      byStatus.merge(
          r.getStatus() + (r.getReason() == null ? "" : "/" + r.getReason()), 1, Integer::sum);
      if (j == null) {
        continue;
      }
      missing.remove(r.getJobId());
      int[] t = perType.computeIfAbsent(j.documentType(), k -> new int[3]);
      t[2]++;
      if (r.getStatus() != ResultStatus.OK) {
        t[1] += DocumentField.values().length;
        fields += DocumentField.values().length;
        continue;
      }
      for (ExtractedField f : r.getFields()) {
        boolean ok = j.truth().get(f.getField()).equals(f.getValue());
        t[0] += ok ? 1 : 0;
        t[1]++;
        exact += ok ? 1 : 0;
        fields++;
      }
    }
    Map<String, Double> accuracy = new LinkedHashMap<>();
    Map<String, Integer> jobsByType = new LinkedHashMap<>();
    perType.forEach(
        (type, t) -> {
          accuracy.put(type, t[1] == 0 ? 0 : (double) t[0] / t[1]);
          jobsByType.put(type, t[2]);
        });
    Collections.sort(latencies);
    long swaps = 0;
    double hits = 0;
    double misses = 0;
    for (InferenceWorker w : stack.workers()) {
      swaps += w.engine().swaps();
      var reg = w.metrics().registry();
      hits += reg.get("docstream.worker.adapter.cache").tag("result", "hit").counter().count();
      misses += reg.get("docstream.worker.adapter.cache").tag("result", "miss").counter().count();
    }
    return new Summary(
        jobs.size(),
        good.size(),
        jobs.size() - good.size(),
        byJob.size(),
        missing.size(),
        duplicates,
        seconds,
        good.size() / seconds,
        pct(latencies, 0.50),
        pct(latencies, 0.95),
        pct(latencies, 0.99),
        swaps,
        hits,
        misses,
        fields == 0 ? 0 : (double) exact / fields,
        accuracy,
        jobsByType,
        byStatus,
        deadByReason,
        expectedDead,
        qc);
  }

  private static double pct(List<Double> sorted, double p) {
    return sorted.isEmpty()
        ? Double.NaN
        : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
  }

  static void write(Summary s, Path out) throws IOException {
    Files.createDirectories(out);
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve("summary.json").toFile(), s);
    StringBuilder md = new StringBuilder("# DocStream demo\n\n");
    md.append(
        String.format(
            "- jobs: %d (%d good, %d bad); results: %d, missing: %d, duplicated: %d%n",
            s.jobs(),
            s.goodJobs(),
            s.badJobs(),
            s.results(),
            s.missingResults(),
            s.duplicateResults()));
    md.append(
        String.format("- throughput: %.1f jobs/s over %.1f s%n", s.jobsPerSecond(), s.seconds()));
    md.append(
        String.format(
            "- end-to-end latency: p50 %.0f ms, p95 %.0f ms, p99 %.0f ms%n",
            s.latencyP50Ms(), s.latencyP95Ms(), s.latencyP99Ms()));
    md.append(
        String.format(
            "- adapter swaps: %d; adapter cache: %.0f hits, %.0f misses%n",
            s.adapterSwaps(), s.cacheHits(), s.cacheMisses()));
    md.append(String.format("- field exact-match: %.2f %%%n%n", 100 * s.fieldExactMatch()));
    md.append("| document type | jobs | field exact-match |\n| --- | ---: | ---: |\n");
    s.fieldExactMatchByType()
        .forEach(
            (t, a) ->
                md.append(
                    String.format("| %s | %d | %.2f %% |%n", t, s.jobsByType().get(t), 100 * a)));
    md.append("\n| dead-letter reason | count | injected |\n| --- | ---: | ---: |\n");
    Set<String> reasons = new java.util.TreeSet<>(s.deadLettersByReason().keySet());
    reasons.addAll(s.expectedDeadLetters().keySet());
    for (String r : reasons) {
      md.append(
          String.format(
              "| %s | %d | %d |%n",
              r,
              s.deadLettersByReason().getOrDefault(r, 0),
              s.expectedDeadLetters().getOrDefault(r, 0)));
    }
    if (s.qc() != null) {
      md.append(DemoQcReport.markdown(s.qc()));
    }
    Files.writeString(out.resolve("summary.md"), md.toString());
  }
}
