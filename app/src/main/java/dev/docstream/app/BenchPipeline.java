package dev.docstream.app;

import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
  private BenchPipeline() {}

  static Bench.Figure pipeline(
      Path models, Path adapters, List<LoadGenerator.Job> jobs, int reps, Path data, int types)
      throws IOException {
    EmbeddedStack.Options o =
        new EmbeddedStack.Options(
            data, true, 1, 8, models.resolve("base"), adapters, "bench-" + types, 32, 0);
    try (EmbeddedStack stack = EmbeddedStack.start(o)) {
      return Bench.throughput(
          "pipeline through Kafka (intake + 1 worker), " + types + " document types",
          reps,
          jobs.size(),
          () -> sendAndWait(stack, jobs));
    }
  }

  /** The worker alone through Kafka: requests produced straight to extraction.requests. */
  static Bench.Figure workerOnly(
      Path models, Path adapters, List<ExtractionRequest> requests, int reps, Path data)
      throws IOException {
    EmbeddedStack.Options o =
        new EmbeddedStack.Options(
            data, true, 1, 8, models.resolve("base"), adapters, "bench-worker", 32, 0);
    try (EmbeddedStack stack = EmbeddedStack.start(o)) {
      var serde = Topics.EXTRACTION_REQUESTS.valueSerde(stack.registry());
      String topic = Topics.EXTRACTION_REQUESTS.name();
      return Bench.throughput(
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
      consumer.subscribe(List.of(Topics.EXTRACTION_RESULTS.name()));
      while (consumer.assignment().isEmpty()) {
        consumer.poll(Duration.ofMillis(50));
      }
      send.run();
      int seen = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (seen < expected && System.nanoTime() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(50))) {
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
