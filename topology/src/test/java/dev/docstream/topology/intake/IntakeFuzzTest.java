package dev.docstream.topology.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.testing.HostileRecords;
import dev.docstream.topology.intake.internal.JobValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100,000 records made by mutating valid jobs (bit flips, truncation, inserted and deleted bytes,
 * length and count fields set to extremes, random URIs, huge and empty strings) go through intake:
 * each must end as exactly one request or one dead letter, no exception may escape, and memory must
 * stay bounded.
 */
class IntakeFuzzTest {
  private static final String SCOPE = "intake-fuzz-test";
  private static final String TYPE = "GBR-PASSPORT-2015";
  private static final int RECORDS = 100_000;

  @TempDir Path tmp;

  private TopologyTestDriver driver;

  @AfterEach
  void stop() {
    if (driver != null) {
      driver.close();
    }
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  @Test
  void shouldTurnEveryMutatedRecordIntoExactlyOneOutput() throws Exception {
    Path images = Files.createDirectories(tmp.resolve("images"));
    Files.write(images.resolve("a.png"), TestJobs.PNG);
    IntakeConfig config =
        new IntakeConfig(
            Map.of(
                IntakeConfig.IMAGES_DIR_CONFIG,
                "",
                IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG,
                "mock://" + SCOPE,
                IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG,
                "static",
                IntakeConfig.DOCUMENT_TYPES_CONFIG,
                TYPE,
                IntakeConfig.IMAGE_ROOT_CONFIG,
                images.toString(),
                IntakeConfig.STATE_DIR_CONFIG,
                tmp.resolve("state").toString()));
    driver =
        new TopologyTestDriver(IntakeTopology.buildTopology(config), config.streamsProperties());
    AvroSerde<VerificationJob> serde =
        Topics.VERIFICATION_JOBS.valueSerde(SchemaRegistries.forUrl("mock://" + SCOPE, null));
    TestInputTopic<String, byte[]> in =
        driver.createInputTopic(
            Topics.VERIFICATION_JOBS.name(), new StringSerializer(), new ByteArraySerializer());
    TestOutputTopic<String, byte[]> requests =
        driver.createOutputTopic(
            Topics.EXTRACTION_REQUESTS.name(),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    TestOutputTopic<String, byte[]> replayRequests = // a mutation may make a job REPLAY
        driver.createOutputTopic(
            Topics.EXTRACTION_REQUESTS_REPLAY.name(),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    TestOutputTopic<String, DeadLetter> deadLetters =
        driver.createOutputTopic(
            Topics.VERIFICATION_JOBS_DLQ.name(),
            new StringDeserializer(),
            Topics.VERIFICATION_JOBS_DLQ.valueSerde(
                SchemaRegistries.forUrl("mock://" + SCOPE, null)));

    Random rnd = new Random(42);
    String ref = images.resolve("a.png").toUri().toString();
    long accepted = 0;
    Map<String, Integer> reasons = new TreeMap<>();
    long peakHeap = 0;
    for (int i = 0; i < RECORDS; i++) {
      VerificationJob seed = seed(rnd, i, ref);
      byte[] value =
          HostileRecords.mutate(rnd, serde.serialize(Topics.VERIFICATION_JOBS.name(), seed));
      in.pipeInput(seed.getJobId(), value); // throws if anything escapes intake
      long req = requests.getQueueSize() + replayRequests.getQueueSize();
      List<DeadLetter> dead = deadLetters.readValuesToList();
      assertEquals(1, req + dead.size(), "record " + i + " must end as exactly one output");
      accepted += req;
      requests.readRecordsToList();
      replayRequests.readRecordsToList();
      dead.forEach(d -> reasons.merge(d.getReason(), 1, Integer::sum));
      if (i % 1000 == 0) {
        Runtime rt = Runtime.getRuntime();
        peakHeap = Math.max(peakHeap, rt.totalMemory() - rt.freeMemory());
      }
    }
    System.out.printf(
        "fuzz: %d records -> %d requests, dead letters %s; peak heap %d MB%n",
        RECORDS, accepted, reasons, peakHeap >> 20);
    assertTrue(accepted > 1000, "some mutations leave a valid job: " + accepted);
    assertTrue(reasons.getOrDefault("UNDECODABLE", 0) > 10_000, reasons.toString());
    assertTrue(peakHeap < 1L << 30, "heap peaked at " + (peakHeap >> 20) + " MB");
  }

  /** A valid job of one of several shapes. */
  private static VerificationJob seed(Random rnd, int i, String ref) {
    VerificationJob.Builder b =
        TestJobs.job("job-" + i, TYPE).setTenantId("tenant-" + rnd.nextInt(3));
    switch (rnd.nextInt(8)) {
      case 0 -> b.setImage(TestJobs.reference(ref, JobValidator.sha256(TestJobs.PNG)));
      case 1 -> b.setImage(TestJobs.reference(randomUri(rnd), "00"));
      case 2 -> b.setRequestedFields(List.of("SURNAME", "DATE_OF_BIRTH", "SEX"));
      case 3 -> b.setJobId(extremeString(rnd));
      case 4 -> b.setTenantId(extremeString(rnd));
      case 5 -> b.setDocumentType(extremeString(rnd));
      case 6 -> b.setRequestedFields(java.util.Collections.nCopies(rnd.nextInt(2000), "SURNAME"));
      default -> {}
    }
    return b.build();
  }

  private static String randomUri(Random rnd) {
    String[] parts = {
      "file:",
      "file://",
      "file:///",
      "http://x/",
      "/",
      "..",
      "%00",
      "?",
      "#",
      "a.png",
      ":",
      "\u0000",
      "host",
      "//",
      "%2e%2e",
      "~",
      " ",
      "\\",
      "C:",
      "é"
    };
    StringBuilder s = new StringBuilder();
    for (int k = rnd.nextInt(6); k >= 0; k--) {
      s.append(parts[rnd.nextInt(parts.length)]);
    }
    return s.toString();
  }

  private static String extremeString(Random rnd) {
    return switch (rnd.nextInt(4)) {
      case 0 -> "";
      case 1 -> " ";
      case 2 -> "x".repeat(100_000 + rnd.nextInt(100_000));
      default -> "\u0000\uFFFF\uD800";
    };
  }
}
