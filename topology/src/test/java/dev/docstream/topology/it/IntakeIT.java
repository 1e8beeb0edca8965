package dev.docstream.topology.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.docstream.topology.intake.IntakeApp;
import dev.docstream.topology.intake.IntakeConfig;
import dev.docstream.topology.intake.TestJobs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Intake on a real broker: 1,000 jobs over 20 document types, 60 of them bad. */
class IntakeIT {
  private static final String SCOPE = "intake-it";
  private static EmbeddedKafkaBroker broker;

  @TempDir static Path tmp;

  @BeforeAll
  static void startBroker() {
    broker = EmbeddedKafkaBroker.ephemeral().start();
    broker.createTopics(
        Map.of(
            Topics.VERIFICATION_JOBS.name(),
            4,
            Topics.EXTRACTION_REQUESTS.name(),
            6,
            Topics.VERIFICATION_JOBS_DLQ.name(),
            2,
            Topics.VERIFICATION_JOBS_REPLAY.name(),
            1,
            Topics.EXTRACTION_REQUESTS_REPLAY.name(),
            1));
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  @Test
  void shouldSplit1000JobsInto940RequestsAnd60DeadLetters() throws Exception {
    List<String> types = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      types.add("T" + i + "-ID-CARD-2020");
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
                String.join(",", types),
                IntakeConfig.IMAGE_MAX_BYTES_CONFIG,
                "20000",
                IntakeConfig.STATE_DIR_CONFIG,
                tmp.resolve("state").toString(),
                IntakeConfig.APPLICATION_ID_CONFIG,
                "intake-it"));
    SchemaRegistry registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
    var jobSerde = Topics.VERIFICATION_JOBS.valueSerde(registry);

    // 940 good jobs; 60 bad: 8 of each of 4 reasons, 7 of each of 4 more (one is a duplicate id).
    Random rnd = new Random(42);
    List<ProducerRecord<String, byte[]>> records = new ArrayList<>();
    Map<String, Integer> expectedReasons = new TreeMap<>();
    List<String> goodIds = new ArrayList<>();
    for (int i = 0; i < 940; i++) {
      String id = "good-" + i;
      goodIds.add(id);
      VerificationJob job = TestJobs.job(id, types.get(rnd.nextInt(types.size()))).build();
      records.add(
          new ProducerRecord<>(
              Topics.VERIFICATION_JOBS.name(),
              id,
              jobSerde.serialize(Topics.VERIFICATION_JOBS.name(), job)));
    }
    Map<String, Consumer<VerificationJob.Builder>> spoilers = new HashMap<>();
    spoilers.put("UNKNOWN_DOC_TYPE", b -> b.setDocumentType("NOPE-PASSPORT-1999"));
    spoilers.put("MISSING_IMAGE", b -> b.setImage(null));
    spoilers.put(
        "IMAGE_TOO_LARGE", b -> b.setImage(TestJobs.inline(TestJobs.noisyPng(100, 80), null)));
    spoilers.put(
        "IMAGE_UNREADABLE",
        b -> b.setImage(TestJobs.inline("not an image at all".getBytes(), null)));
    spoilers.put(
        "CHECKSUM_MISMATCH", b -> b.setImage(TestJobs.inline(TestJobs.PNG, "0".repeat(64))));
    spoilers.put("UNKNOWN_FIELD", b -> b.setRequestedFields(List.of("HEIGHT")));
    int bad = 0;
    for (String reason :
        List.of(
            "UNDECODABLE",
            "UNKNOWN_DOC_TYPE",
            "MISSING_IMAGE",
            "IMAGE_TOO_LARGE",
            "IMAGE_UNREADABLE",
            "CHECKSUM_MISMATCH",
            "UNKNOWN_FIELD",
            "DUPLICATE_JOB")) {
      int count = bad < 32 ? 8 : 7;
      for (int i = 0; i < count; i++, bad++) {
        String id =
            reason.equals("DUPLICATE_JOB") ? goodIds.get(i * 100) : "bad-" + reason + "-" + i;
        byte[] value =
            switch (reason) {
              case "UNDECODABLE" -> new byte[] {0, 0, 0, 0, 42, (byte) 0xff};
              case "DUPLICATE_JOB" ->
                  jobSerde.serialize(
                      Topics.VERIFICATION_JOBS.name(), TestJobs.job(id, types.get(0)).build());
              default -> {
                VerificationJob.Builder b = TestJobs.job(id, types.get(i % types.size()));
                spoilers.get(reason).accept(b);
                yield jobSerde.serialize(Topics.VERIFICATION_JOBS.name(), b.build());
              }
            };
        records.add(new ProducerRecord<>(Topics.VERIFICATION_JOBS.name(), id, value));
        expectedReasons.merge(reason, 1, Integer::sum);
      }
    }
    assertEquals(1000, records.size());
    // Duplicates go last so that the original of each has been produced before it.
    List<ProducerRecord<String, byte[]>> ordered = new ArrayList<>(records.subList(0, 940 + 53));
    java.util.Collections.shuffle(ordered, rnd);
    ordered.addAll(records.subList(940 + 53, 1000));

    KafkaStreams streams = IntakeApp.start(config);
    try {
      try (var producer =
          new KafkaProducer<>(
              Map.<String, Object>of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
              new StringSerializer(),
              new ByteArraySerializer())) {
        ordered.forEach(producer::send);
      }
      var requests =
          drain(
              Topics.EXTRACTION_REQUESTS.name(),
              Topics.EXTRACTION_REQUESTS.valueSerde(registry),
              940);
      var dead =
          drain(
              Topics.VERIFICATION_JOBS_DLQ.name(),
              Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry),
              60);

      assertEquals(940, requests.size());
      Set<String> ids = new HashSet<>();
      Map<String, Set<Integer>> partitionsByType = new HashMap<>();
      for (ConsumerRecord<String, ExtractionRequest> r : requests) {
        assertTrue(ids.add(r.value().getJobId()), "duplicated request " + r.value().getJobId());
        assertEquals(r.value().getDocumentType(), r.key());
        partitionsByType.computeIfAbsent(r.key(), k -> new HashSet<>()).add(r.partition());
      }
      assertEquals(new HashSet<>(goodIds), ids);
      partitionsByType.forEach(
          (type, parts) -> assertEquals(1, parts.size(), type + " spread over " + parts));

      assertEquals(60, dead.size());
      Map<String, Integer> reasons = new TreeMap<>();
      for (ConsumerRecord<String, DeadLetter> r : dead) {
        reasons.merge(r.value().getReason(), 1, Integer::sum);
        assertEquals(Topics.VERIFICATION_JOBS.name(), r.value().getSourceTopic());
      }
      assertEquals(expectedReasons, reasons);
      assertEquals(KafkaStreams.State.RUNNING, streams.state());
    } finally {
      streams.close(Duration.ofSeconds(30));
    }
  }

  private static <V> List<ConsumerRecord<String, V>> drain(
      String topic, Deserializer<V> values, int expected) {
    return TopicReader.readCommitted(
        broker.bootstrapServers(),
        topic,
        values,
        expected,
        Duration.ofSeconds(90),
        Duration.ofSeconds(3));
  }
}
