package dev.docstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.app.replay.Replay;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.serde.AvroSerde;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code docstream bench --part replay}: live latency beside a replay backlog, in one run on one
 * embedded stack (intake + 1 worker). It measures the pipeline's capacity C, then (after 10 s of
 * it, not counted) a steady live load at C/2 for a window alone, then the same load for the same
 * window beside a replay backlog already in the replay lane (at least 10x the live jobs in flight),
 * and reports live p95 with replay / live p95 alone (target <= 1.10) and the replay's throughput as
 * a share of the spare capacity C - C/2.
 */
public final class BenchReplay {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The figures of one run. */
  public record Figures(
      double capacity,
      double liveRate,
      double p95Alone,
      double p95WithReplay,
      double p50Alone,
      double p50WithReplay,
      int backlog,
      double replayPerSecond,
      double shareOfSpare) {}

  private BenchReplay() {}

  public static Figures run(
      Path models, int windowSeconds, int backlog, long seed, Path work, Path out)
      throws IOException, InterruptedException {
    EmbeddedStack.Options o =
        new EmbeddedStack.Options(
            work.resolve("replay-stack"),
            true,
            1,
            8,
            models.resolve("base"),
            models.resolve("adapters"),
            "bench-replay",
            32,
            0);
    List<String> types =
        new ArrayList<>(
            new java.util.TreeSet<>(
                new dev.docstream.inference.adapter.DirectoryAdapterStore(
                        models.resolve("adapters"), "", Map.of())
                    .documentTypes()));
    List<LoadGenerator.Job> docs = LoadGenerator.generate(types, 200, 1.0, 0, seed);
    try (EmbeddedStack stack = EmbeddedStack.start(o);
        Results results = new Results(stack)) {
      AvroSerde<VerificationJob> serde = Topics.VERIFICATION_JOBS.valueSerde(stack.registry());
      try (KafkaProducer<String, byte[]> producer =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  stack.bootstrapServers(),
                  ProducerConfig.LINGER_MS_CONFIG,
                  2),
              new StringSerializer(),
              new ByteArraySerializer())) {
        // Capacity: 400 live jobs as fast as they go (the first 100 warm the model and caches).
        send(producer, serde, docs, "warm-", 100, Priority.LIVE, 0);
        results.await("warm-", 100);
        long t0 = System.nanoTime();
        send(producer, serde, docs, "cap-", 300, Priority.LIVE, 0);
        results.await("cap-", 300);
        double capacity = 300 / ((System.nanoTime() - t0) / 1e9);
        double liveRate = capacity / 2;
        int liveJobs = (int) (liveRate * windowSeconds);
        System.out.printf(
            Locale.ROOT,
            "capacity %.1f jobs/s; live load %.1f jobs/s for %d s%n",
            capacity,
            liveRate,
            windowSeconds);

        // 10 s of the live load first, not counted: the first window after the burst runs slow.
        send(producer, serde, docs, "steady-", (int) (liveRate * 10), Priority.LIVE, liveRate);
        results.await("steady-", (int) (liveRate * 10));
        send(producer, serde, docs, "alone-", liveJobs, Priority.LIVE, liveRate);
        results.await("alone-", liveJobs);
        List<Long> alone = results.latencies("alone-");

        // The backlog goes into the replay lane first (through intake), then the live window.
        send(producer, serde, docs, "replay-", backlog, Priority.REPLAY, 0);
        awaitReplayLane(stack, backlog);
        long replayDoneBefore = results.count("replay-");
        Instant windowStart = Instant.now();
        send(producer, serde, docs, "beside-", liveJobs, Priority.LIVE, liveRate);
        Instant windowEnd = Instant.now();
        results.await("beside-", liveJobs);
        List<Long> beside = results.latencies("beside-");
        long replayedInWindow = results.countBetween("replay-", windowStart, windowEnd);
        double window = Duration.between(windowStart, windowEnd).toMillis() / 1000.0;
        double replayRate = replayedInWindow / window;
        System.out.printf(
            Locale.ROOT,
            "replayed before the window %d, in it %d (%.1f jobs/s)%n",
            replayDoneBefore,
            replayedInWindow,
            replayRate);
        Figures f =
            new Figures(
                capacity,
                liveRate,
                pct(alone, 0.95),
                pct(beside, 0.95),
                pct(alone, 0.5),
                pct(beside, 0.5),
                backlog,
                replayRate,
                replayRate / (capacity - liveRate));
        write(f, windowSeconds, out);
        return f;
      }
    }
  }

  private static void write(Figures f, int windowSeconds, Path out) throws IOException {
    Files.createDirectories(out);
    ObjectNode n = JSON.valueToTree(f);
    n.put("window_seconds", windowSeconds);
    n.put("p95_ratio", f.p95WithReplay() / f.p95Alone());
    Files.writeString(
        out.resolve("bench-replay.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
    String md =
        String.format(
            Locale.ROOT,
            "| figure | value |%n| --- | ---: |%n"
                + "| pipeline capacity C (intake + 1 worker) | %.1f jobs/s |%n"
                + "| live load (C/2) | %.1f jobs/s for %d s |%n"
                + "| live p50 / p95 alone | %.0f / %.0f ms |%n"
                + "| live p50 / p95 beside a %d-job replay backlog | %.0f / %.0f ms |%n"
                + "| **live p95 with replay / alone** (target <= 1.10) | **%.2f** |%n"
                + "| replay throughput in the window | %.1f jobs/s |%n"
                + "| **replay / spare capacity (C - C/2)** | **%.2f** |%n",
            f.capacity(),
            f.liveRate(),
            windowSeconds,
            f.p50Alone(),
            f.p95Alone(),
            f.backlog(),
            f.p50WithReplay(),
            f.p95WithReplay(),
            f.p95WithReplay() / f.p95Alone(),
            f.replayPerSecond(),
            f.shareOfSpare());
    Files.writeString(out.resolve("bench-replay.md"), md);
  }

  private static double pct(List<Long> sorted, double q) {
    return sorted.get(Math.max(0, (int) Math.ceil(q * sorted.size()) - 1));
  }

  private static void send(
      KafkaProducer<String, byte[]> producer,
      AvroSerde<VerificationJob> serde,
      List<LoadGenerator.Job> docs,
      String prefix,
      int n,
      Priority priority,
      double rate) {
    String topic =
        priority == Priority.REPLAY
            ? Topics.VERIFICATION_JOBS_REPLAY.name()
            : Topics.VERIFICATION_JOBS.name();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      VerificationJob template = docs.get(i % docs.size()).job();
      VerificationJob job =
          VerificationJob.newBuilder(template)
              .setJobId(prefix + i)
              .setPriority(priority)
              .setReplayOf(priority == Priority.REPLAY ? template.getJobId() : null)
              .setSubmittedAt(Instant.now())
              .build();
      producer.send(new ProducerRecord<>(topic, job.getJobId(), serde.serialize(topic, job)));
      if (rate > 0) {
        producer.flush();
        Replay.pace(i + 1, rate, start);
      }
    }
    producer.flush();
  }

  /** Waits until intake has routed the whole backlog into the replay lane. */
  private static void awaitReplayLane(EmbeddedStack stack, int backlog)
      throws InterruptedException {
    try (var c =
        new KafkaConsumer<>(
            Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
            new StringDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      c.partitionsFor(Topics.EXTRACTION_REQUESTS_REPLAY.name())
          .forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
      while (c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum() < backlog) {
        Thread.sleep(200);
      }
    }
  }

  /** Results of the run, read as they are committed. */
  private static final class Results implements AutoCloseable {
    private final ConcurrentLinkedQueue<ExtractionResult> all = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean running = true;

    Results(EmbeddedStack stack) {
      var serde = Topics.EXTRACTION_RESULTS.valueSerde(stack.registry());
      KafkaConsumer<String, byte[]> consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers(),
                  ConsumerConfig.GROUP_ID_CONFIG, "bench-replay-reader",
                  ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                  ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
              new StringDeserializer(),
              new ByteArrayDeserializer());
      consumer.subscribe(List.of(Topics.EXTRACTION_RESULTS.name()));
      thread =
          new Thread(
              () -> {
                try (consumer) {
                  while (running) {
                    consumer
                        .poll(Duration.ofMillis(50))
                        .forEach(r -> all.add(serde.deserialize(r.topic(), r.value())));
                  }
                }
              },
              "bench-replay-results");
      thread.setDaemon(true);
      thread.start();
    }

    long count(String prefix) {
      return all.stream().filter(r -> r.getJobId().startsWith(prefix)).count();
    }

    long countBetween(String prefix, Instant from, Instant to) {
      return all.stream()
          .filter(r -> r.getJobId().startsWith(prefix))
          .filter(r -> !r.getCompletedAt().isBefore(from) && r.getCompletedAt().isBefore(to))
          .count();
    }

    void await(String prefix, int n) throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (count(prefix) < n) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              count(prefix) + " of " + n + " " + prefix + " results in 10 minutes");
        }
        Thread.sleep(50);
      }
    }

    /** End-to-end latencies in ms, sorted. */
    List<Long> latencies(String prefix) {
      List<Long> out = new ArrayList<>();
      all.stream()
          .filter(r -> r.getJobId().startsWith(prefix))
          .forEach(
              r -> out.add(Duration.between(r.getSubmittedAt(), r.getCompletedAt()).toMillis()));
      out.sort(Long::compare);
      return out;
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join(5000);
    }
  }
}
