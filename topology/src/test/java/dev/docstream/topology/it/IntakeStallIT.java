package dev.docstream.topology.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.embedded.TopicReader;
import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.testing.HostileRecords;
import dev.docstream.topology.intake.IntakeApp;
import dev.docstream.topology.intake.IntakeConfig;
import dev.docstream.topology.intake.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.ThreadMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single records that used to stall intake for good (its stream thread failed, was replaced and
 * failed again on the same record), on a real broker with its default size limits, each one between
 * good jobs on the one partition: every bad record must become a dead letter, every good job behind
 * it a request, within seconds, on the stream thread intake started with.
 */
class IntakeStallIT {
  private static final String SCOPE = "intake-stall-it";
  private static final String TYPE = "GBR-PASSPORT-2015";

  /** The broker's default message.max.bytes. */
  private static final int BROKER_LIMIT = 1_048_588;

  @TempDir Path tmp;

  @Test
  void shouldDeadLetterEachStallingRecordAndGoOnWithTheGoodJobsBehindIt() throws Exception {
    Path images = Files.createDirectories(tmp.resolve("images"));
    String root = images.toUri().getPath();
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.ephemeral().start()) {
      broker.createTopics(
          Map.of(
              Topics.VERIFICATION_JOBS.name(),
              1,
              Topics.EXTRACTION_REQUESTS.name(),
              2,
              Topics.VERIFICATION_JOBS_DLQ.name(),
              1,
              Topics.VERIFICATION_JOBS_REPLAY.name(),
              1,
              Topics.EXTRACTION_REQUESTS_REPLAY.name(),
              1));
      SchemaRegistry registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
      AvroSerde<VerificationJob> jobs = Topics.VERIFICATION_JOBS.valueSerde(registry);
      String topic = Topics.VERIFICATION_JOBS.name();

      List<byte[]> values = new ArrayList<>();
      Map<String, Integer> expected = new TreeMap<>();
      int good = 0;
      values.add(jobs.serialize(topic, TestJobs.job("good-" + good++, TYPE).build()));
      // Valid jobs close to the broker's limit: one whose dead letter fits with its original value,
      // one whose does not.
      values.add(jobOfSize(jobs, "near-limit-1", 1_020_000));
      values.add(jobOfSize(jobs, "near-limit-2", BROKER_LIMIT - 200));
      expected.merge("IMAGE_TOO_LARGE", 2, Integer::sum);
      values.add(jobs.serialize(topic, TestJobs.job("good-" + good++, TYPE).build()));
      // A few dozen bytes whose array claims two billion items.
      values.add(HostileRecords.jobClaimingArrayItems(values.get(0), "billions", 2_000_000_000L));
      expected.merge("UNDECODABLE", 1, Integer::sum);
      values.add(jobs.serialize(topic, TestJobs.job("good-" + good++, TYPE).build()));
      // References Path.of(URI) refuses.
      for (String uri :
          List.of(
              "file://host" + root + "a.png",
              "file:" + root + "a.png?q=1",
              "file:a.png",
              "file:" + root + "a%00.png",
              "file:" + root + "a.png#f")) {
        values.add(
            jobs.serialize(
                topic,
                TestJobs.job("uri-" + values.size(), TYPE)
                    .setImage(TestJobs.reference(uri, "00"))
                    .build()));
        expected.merge("IMAGE_UNREADABLE", 1, Integer::sum);
      }
      for (int i = 0; i < 7; i++) {
        values.add(jobs.serialize(topic, TestJobs.job("good-" + good++, TYPE).build()));
      }

      IntakeConfig config =
          new IntakeConfig(
              Map.of(
                  IntakeConfig.IMAGES_DIR_CONFIG,
                  "",
                  IntakeConfig.BOOTSTRAP_SERVERS_CONFIG,
                  broker.bootstrapServers(),
                  IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG,
                  "mock://" + SCOPE,
                  IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG,
                  "static",
                  IntakeConfig.DOCUMENT_TYPES_CONFIG,
                  TYPE,
                  IntakeConfig.IMAGE_ROOT_CONFIG,
                  images.toString(),
                  IntakeConfig.STATE_DIR_CONFIG,
                  tmp.resolve("state").toString(),
                  IntakeConfig.APPLICATION_ID_CONFIG,
                  "intake-stall-it"));
      KafkaStreams streams = IntakeApp.start(config);
      try {
        Set<String> threadsAtStart = waitForThreads(streams);
        long t0 = System.nanoTime();
        try (var producer =
            new KafkaProducer<>(
                Map.<String, Object>of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers(),
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
                    BROKER_LIMIT),
                new StringSerializer(),
                new ByteArraySerializer())) {
          for (byte[] v : values) {
            producer.send(new ProducerRecord<>(topic, 0, null, v)).get();
          }
        }
        List<ConsumerRecord<String, ExtractionRequest>> requests =
            TopicReader.readCommitted(
                broker.bootstrapServers(),
                Topics.EXTRACTION_REQUESTS.name(),
                Topics.EXTRACTION_REQUESTS.valueSerde(registry),
                good,
                Duration.ofSeconds(60),
                Duration.ofSeconds(1));
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<ConsumerRecord<String, DeadLetter>> dead =
            TopicReader.readCommitted(
                broker.bootstrapServers(),
                Topics.VERIFICATION_JOBS_DLQ.name(),
                Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry),
                8,
                Duration.ofSeconds(30),
                Duration.ofSeconds(1));
        System.out.printf(
            "stalls: %d requests, %d dead letters, all within %.1f s%n",
            requests.size(), dead.size(), seconds);

        assertEquals(
            good, requests.size(), "every good job behind the bad records gets its request");
        assertTrue(seconds < 30, "within seconds, not after retries: " + seconds);
        assertEquals(
            expected,
            dead.stream()
                .collect(
                    Collectors.toMap(
                        r -> r.value().getReason(), r -> 1, Integer::sum, TreeMap::new)));
        DeadLetter nearLimit1 = byJob(dead, "near-limit-1");
        DeadLetter nearLimit2 = byJob(dead, "near-limit-2");
        assertTrue(
            nearLimit1.getOriginalValue() != null,
            "a dead letter that fits keeps the original value");
        assertNull(nearLimit2.getOriginalValue(), "one that would not fit goes without it");
        assertTrue(nearLimit2.getDetail().contains("omitted"), nearLimit2.getDetail());
        assertEquals(KafkaStreams.State.RUNNING, streams.state());
        assertEquals(
            threadsAtStart, threadNames(streams), "no stream thread failed and was replaced");
      } finally {
        IntakeApp.stop(streams, Duration.ofSeconds(30));
      }
    } finally {
      InMemorySchemaRegistry.dropScope(SCOPE);
    }
  }

  /** A valid job (random image bytes) whose value has exactly {@code size} bytes. */
  private static byte[] jobOfSize(AvroSerde<VerificationJob> serde, String id, int size) {
    byte[] image = new byte[size - 200];
    new Random(size).nextBytes(image);
    for (int attempt = 0; attempt < 5; attempt++) {
      byte[] value =
          serde.serialize(
              Topics.VERIFICATION_JOBS.name(),
              TestJobs.job(id, TYPE).setImage(TestJobs.inline(image, null)).build());
      if (value.length == size) {
        return value;
      }
      image = java.util.Arrays.copyOf(image, image.length + size - value.length);
    }
    throw new IllegalStateException("could not size the job to " + size + " bytes");
  }

  private static DeadLetter byJob(List<ConsumerRecord<String, DeadLetter>> dead, String jobId) {
    return dead.stream()
        .map(ConsumerRecord::value)
        .filter(d -> jobId.equals(d.getJobId()))
        .findFirst()
        .orElseThrow();
  }

  private static Set<String> waitForThreads(KafkaStreams streams) throws InterruptedException {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> streams.state() == KafkaStreams.State.RUNNING);
    return threadNames(streams);
  }

  private static Set<String> threadNames(KafkaStreams streams) {
    return streams.metadataForLocalThreads().stream()
        .map(ThreadMetadata::threadName)
        .collect(Collectors.toSet());
  }
}
