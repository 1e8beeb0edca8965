package dev.docstream.topology.intake;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.testing.HostileRecords;
import dev.docstream.topology.images.DirectoryImageStore;
import dev.docstream.topology.intake.internal.IntakeProcessor;
import dev.docstream.topology.intake.internal.JobValidator;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IntakeTopologyTest {
  private static final String SCOPE = "intake-topology-test";
  private static final String PASSPORT = "GBR-PASSPORT-2015";
  private static final String ID_CARD = "FRA-ID-CARD-2020";

  @TempDir Path tmp;

  private TopologyTestDriver driver;
  private TestInputTopic<String, VerificationJob> jobs;
  private TestInputTopic<String, byte[]> rawJobs;
  private TestOutputTopic<String, ExtractionRequest> requests;
  private TestOutputTopic<String, DeadLetter> deadLetters;

  @BeforeEach
  void start() throws Exception {
    Files.createDirectories(tmp.resolve("images"));
    IntakeConfig config =
        new IntakeConfig(
            Map.of(
                IntakeConfig.IMAGES_DIR_CONFIG,
                tmp.resolve("stored-images").toString(),
                IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG,
                "mock://" + SCOPE,
                IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG,
                "static",
                IntakeConfig.DOCUMENT_TYPES_CONFIG,
                PASSPORT + "," + ID_CARD,
                IntakeConfig.IMAGE_MAX_BYTES_CONFIG,
                "20000",
                IntakeConfig.DEDUPE_WINDOW_MS_CONFIG,
                "60000",
                IntakeConfig.IMAGE_ROOT_CONFIG,
                tmp.resolve("images").toString(),
                IntakeConfig.STATE_DIR_CONFIG,
                tmp.resolve("state").toString()));
    Properties props = config.streamsProperties();
    driver = new TopologyTestDriver(IntakeTopology.buildTopology(config), props);
    var registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
    jobs =
        driver.createInputTopic(
            Topics.VERIFICATION_JOBS.name(),
            new StringSerializer(),
            Topics.VERIFICATION_JOBS.valueSerde(registry));
    rawJobs =
        driver.createInputTopic(
            Topics.VERIFICATION_JOBS.name(), new StringSerializer(), new ByteArraySerializer());
    requests =
        driver.createOutputTopic(
            Topics.EXTRACTION_REQUESTS.name(),
            new StringDeserializer(),
            Topics.EXTRACTION_REQUESTS.valueSerde(registry));
    deadLetters =
        driver.createOutputTopic(
            Topics.VERIFICATION_JOBS_DLQ.name(),
            new StringDeserializer(),
            Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry));
  }

  @AfterEach
  void stop() {
    driver.close();
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  private DeadLetter onlyDeadLetter() {
    assertTrue(requests.isEmpty(), "nothing may reach extraction.requests");
    List<KeyValue<String, DeadLetter>> all = deadLetters.readKeyValuesToList();
    assertEquals(1, all.size(), all.toString());
    return all.get(0).value;
  }

  @Test
  void shouldRekeyGoodJobByDocumentTypeAndExpandAllFields() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    KeyValue<String, ExtractionRequest> out = requests.readKeyValue();
    assertEquals(PASSPORT, out.key);
    assertEquals("job-1", out.value.getJobId());
    assertEquals(List.of(DocumentField.values()), out.value.getRequestedFields());
    assertEquals(JobValidator.sha256(TestJobs.PNG), out.value.getImageSha256());
    assertEquals(ByteBuffer.wrap(TestJobs.PNG), out.value.getImage());
    assertTrue(deadLetters.isEmpty());
  }

  @Test
  void shouldStoreTheImageOfAnAcceptedJobByItsSha256ForReview() throws Exception {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    jobs.pipeInput("job-2", TestJobs.job("job-2", "XXX-UNKNOWN-1999").build());
    String sha = requests.readValue().getImageSha256();
    var store =
        new DirectoryImageStore(
            tmp.resolve("stored-images"),
            java.time.Duration.ofDays(30),
            java.time.Clock.systemUTC());
    assertArrayEquals(TestJobs.PNG, store.get(sha).orElseThrow());
    try (var files = Files.walk(tmp.resolve("stored-images"))) {
      assertEquals(
          1,
          files.filter(Files::isRegularFile).count(),
          "one image: the rejected job's is not kept");
    }
  }

  @Test
  void shouldKeepRequestedFieldsInOrder() {
    jobs.pipeInput(
        "job-1",
        TestJobs.job("job-1", ID_CARD).setRequestedFields(List.of("SEX", "SURNAME")).build());
    assertEquals(
        List.of(DocumentField.SEX, DocumentField.SURNAME),
        requests.readValue().getRequestedFields());
  }

  @Test
  void shouldSendJobToDeadLetterWhenValueIsUndecodable() {
    rawJobs.pipeInput("job-x", new byte[] {7, 0, 0, 0, 1, 2});
    DeadLetter d = onlyDeadLetter();
    assertEquals("UNDECODABLE", d.getReason());
    assertEquals("job-x", d.getJobId());
    assertEquals(Topics.VERIFICATION_JOBS.name(), d.getSourceTopic());
    assertEquals(0, d.getSourcePartition());
    assertEquals(0L, d.getSourceOffset());
    assertEquals(ByteBuffer.wrap(new byte[] {7, 0, 0, 0, 1, 2}), d.getOriginalValue());
  }

  @Test
  void shouldSendJobToDeadLetterWhenValueIsNull() {
    rawJobs.pipeInput("job-x", (byte[]) null);
    assertEquals("UNDECODABLE", onlyDeadLetter().getReason());
  }

  @Test
  void shouldSendJobToDeadLetterWhenDocumentTypeIsUnknown() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", "XXX-PASSPORT-1999").build());
    DeadLetter d = onlyDeadLetter();
    assertEquals("UNKNOWN_DOC_TYPE", d.getReason());
    assertEquals("job-1", d.getJobId());
  }

  @Test
  void shouldSendJobToDeadLetterWhenImageIsMissing() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).setImage(null).build());
    assertEquals("MISSING_IMAGE", onlyDeadLetter().getReason());
  }

  @Test
  void shouldSendJobToDeadLetterWhenReferencedImageDoesNotExist() {
    String uri = tmp.resolve("images/nope.png").toUri().toString();
    jobs.pipeInput(
        "job-1", TestJobs.job("job-1", PASSPORT).setImage(TestJobs.reference(uri, "00")).build());
    assertEquals("MISSING_IMAGE", onlyDeadLetter().getReason());
  }

  @Test
  void shouldSendJobToDeadLetterWhenImageIsTooLarge() {
    byte[] big = TestJobs.noisyPng(100, 80);
    assertTrue(big.length > 20000, "test image must exceed the limit, has " + big.length);
    jobs.pipeInput(
        "job-1", TestJobs.job("job-1", PASSPORT).setImage(TestJobs.inline(big, null)).build());
    assertEquals("IMAGE_TOO_LARGE", onlyDeadLetter().getReason());
  }

  @Test
  void shouldSendJobToDeadLetterWhenImageIsNotDecodable() {
    byte[] noHeader = TestJobs.PNG.clone();
    for (int i = 12; i < noHeader.length; i++) { // from the IHDR chunk's type on
      noHeader[i] = (byte) (i * 31);
    }
    jobs.pipeInput(
        "job-1", TestJobs.job("job-1", PASSPORT).setImage(TestJobs.inline(noHeader, null)).build());
    assertEquals("IMAGE_UNREADABLE", onlyDeadLetter().getReason());
    jobs.pipeInput(
        "job-2",
        TestJobs.job("job-2", PASSPORT)
            .setImage(TestJobs.inline("GIF89a-not-supported".getBytes(), null))
            .build());
    assertEquals("IMAGE_UNREADABLE", onlyDeadLetter().getReason());
  }

  /**
   * Intake reads an image's header, not its pixels (decoding is the worker's, and costs): a PNG
   * whose header is sound and whose body is corrupt goes on, and the worker fails it as
   * IMAGE_UNREADABLE (ExtractionEngineTest).
   */
  @Test
  void shouldPassAnImageWithASoundHeaderAndACorruptBodyOnToTheWorker() {
    byte[] corrupt = TestJobs.PNG.clone();
    for (int i = 40; i < corrupt.length; i++) { // after the IHDR chunk
      corrupt[i] = (byte) (i * 31);
    }
    jobs.pipeInput(
        "job-1", TestJobs.job("job-1", PASSPORT).setImage(TestJobs.inline(corrupt, null)).build());
    assertEquals(ByteBuffer.wrap(corrupt), requests.readValue().getImage());
    assertTrue(deadLetters.isEmpty());
  }

  @Test
  void shouldSendJobToDeadLetterWhenChecksumDiffers() {
    jobs.pipeInput(
        "job-1",
        TestJobs.job("job-1", PASSPORT)
            .setImage(TestJobs.inline(TestJobs.PNG, "ab".repeat(32)))
            .build());
    assertEquals("CHECKSUM_MISMATCH", onlyDeadLetter().getReason());
  }

  @Test
  void shouldFetchReferencedImageAndCheckItsChecksum() throws Exception {
    Path file = tmp.resolve("images/a.png");
    Files.write(file, TestJobs.PNG);
    String sha = JobValidator.sha256(TestJobs.PNG);
    jobs.pipeInput(
        "job-1",
        TestJobs.job("job-1", PASSPORT)
            .setImage(TestJobs.reference(file.toUri().toString(), sha))
            .build());
    assertEquals(ByteBuffer.wrap(TestJobs.PNG), requests.readValue().getImage());
    jobs.pipeInput(
        "job-2",
        TestJobs.job("job-2", PASSPORT)
            .setImage(TestJobs.reference(file.toUri().toString(), "cd".repeat(32)))
            .build());
    assertEquals("CHECKSUM_MISMATCH", onlyDeadLetter().getReason());
  }

  @Test
  void shouldRefuseReferencesOutsideTheImageRoot() throws Exception {
    Path outside = tmp.resolve("secret.png");
    Files.write(outside, TestJobs.PNG);
    jobs.pipeInput(
        "job-1",
        TestJobs.job("job-1", PASSPORT)
            .setImage(
                TestJobs.reference(outside.toUri().toString(), JobValidator.sha256(TestJobs.PNG)))
            .build());
    assertEquals("IMAGE_UNREADABLE", onlyDeadLetter().getReason());
  }

  @Test
  void shouldSendJobToDeadLetterWhenFieldIsUnknown() {
    jobs.pipeInput(
        "job-1",
        TestJobs.job("job-1", PASSPORT)
            .setRequestedFields(List.of("SURNAME", "SHOE_SIZE"))
            .build());
    DeadLetter d = onlyDeadLetter();
    assertEquals("UNKNOWN_FIELD", d.getReason());
    assertTrue(d.getDetail().contains("SHOE_SIZE"));
  }

  @Test
  void shouldNotForwardDuplicateJobWithinWindow() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    assertEquals(1, requests.readValuesToList().size());
    DeadLetter d = deadLetters.readValue();
    assertEquals("DUPLICATE_JOB", d.getReason());
    assertNull(d.getOriginalValue(), "a duplicate's personal data is not copied again");
  }

  @Test
  void shouldForwardSameJobIdAgainAfterWindow() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    driver.advanceWallClockTime(Duration.ofMinutes(2));
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    assertEquals(2, requests.readValuesToList().size());
    assertTrue(deadLetters.isEmpty());
  }

  @Test
  void shouldAcceptRetryOfARejectedJob() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).setImage(null).build());
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).build());
    assertEquals(1, requests.readValuesToList().size());
    assertEquals("MISSING_IMAGE", deadLetters.readValue().getReason());
  }

  @Test
  void shouldKeepProcessingGoodJobsAroundBadOnes() {
    jobs.pipeInput("a", TestJobs.job("a", PASSPORT).build());
    rawJobs.pipeInput("b", new byte[] {0, 0, 0, 0, 99});
    jobs.pipeInput("c", TestJobs.job("c", ID_CARD).build());
    jobs.pipeInput("d", TestJobs.job("d", "NOPE").build());
    jobs.pipeInput("e", TestJobs.job("e", PASSPORT).build());
    List<KeyValue<String, ExtractionRequest>> out = requests.readKeyValuesToList();
    assertEquals(List.of("a", "c", "e"), out.stream().map(kv -> kv.value.getJobId()).toList());
    assertEquals(List.of(PASSPORT, ID_CARD, PASSPORT), out.stream().map(kv -> kv.key).toList());
    assertEquals(
        List.of("UNDECODABLE", "UNKNOWN_DOC_TYPE"),
        deadLetters.readValuesToList().stream().map(DeadLetter::getReason).toList());
  }

  @Test
  void shouldDedupeJobIdsPerTenant() {
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).setTenantId("tenant-a").build());
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).setTenantId("tenant-b").build());
    jobs.pipeInput("job-1", TestJobs.job("job-1", PASSPORT).setTenantId("tenant-a").build());
    assertEquals(
        List.of("tenant-a", "tenant-b"),
        requests.readValuesToList().stream().map(ExtractionRequest::getTenantId).toList());
    assertEquals("DUPLICATE_JOB", onlyDeadLetter().getReason());
  }

  @Test
  void shouldKeepDedupeKeysOfDifferentTenantsApart() {
    assertTrue(
        !IntakeProcessor.dedupeKey("a/b", "c").equals(IntakeProcessor.dedupeKey("a", "b/c")));
  }

  @Test
  void shouldSendJobToDeadLetterWhenJobIdIsEmptyOrTooLong() {
    jobs.pipeInput("", TestJobs.job("", PASSPORT).build());
    DeadLetter d = onlyDeadLetter();
    assertEquals("INVALID_JOB_ID", d.getReason());
    assertNull(d.getJobId());
    jobs.pipeInput("x", TestJobs.job(" ", PASSPORT).build());
    assertEquals("INVALID_JOB_ID", onlyDeadLetter().getReason());
    jobs.pipeInput("x", TestJobs.job("j".repeat(257), PASSPORT).build());
    assertEquals("INVALID_JOB_ID", onlyDeadLetter().getReason());
    jobs.pipeInput("x", TestJobs.job("job-1", PASSPORT).setTenantId("").build());
    assertEquals("INVALID_TENANT_ID", onlyDeadLetter().getReason());
  }

  @Test
  void shouldRefuseADecompressionBombBeforeDecodingIt() {
    byte[] bomb = HostileRecords.pngDeclaring(TestJobs.PNG, 30_000, 30_000);
    long before = usedHeap();
    jobs.pipeInput(
        "job-1",
        TestJobs.job("job-1", PASSPORT)
            .setImage(TestJobs.inline(bomb, JobValidator.sha256(bomb)))
            .build());
    DeadLetter d = onlyDeadLetter();
    assertEquals("IMAGE_TOO_LARGE", d.getReason());
    assertTrue(d.getDetail().contains("30000 x 30000"), d.getDetail());
    assertTrue(usedHeap() - before < 256L << 20, "decoding 900 Mpixel would take gigabytes");
    jobs.pipeInput("job-2", TestJobs.job("job-2", PASSPORT).build());
    assertEquals("job-2", requests.readValue().getJobId());
  }

  @Test
  void shouldSendReferencesThatNameNoLocalFileToDeadLetter() {
    String root = tmp.resolve("images").toUri().getPath();
    List<String> uris =
        List.of(
            "file://host" + root + "a.png",
            "file:" + root + "a.png?x=1",
            "file:" + root + "a.png#frag",
            "file:a.png",
            "file:",
            "file:" + root + "a%00.png",
            "file:///",
            "http://example.com/a.png",
            "::not a uri::",
            "");
    int i = 0;
    for (String uri : uris) {
      jobs.pipeInput(
          "job-" + i,
          TestJobs.job("job-" + i++, PASSPORT).setImage(TestJobs.reference(uri, "00")).build());
      String reason = onlyDeadLetter().getReason();
      assertTrue(
          reason.equals("IMAGE_UNREADABLE") || reason.equals("MISSING_IMAGE"), uri + ": " + reason);
    }
    jobs.pipeInput("good", TestJobs.job("good", PASSPORT).build());
    assertEquals("good", requests.readValue().getJobId());
  }

  @Test
  void shouldSendARecordWhoseArrayClaimsBillionsOfItemsToDeadLetter() {
    byte[] valid =
        Topics.VERIFICATION_JOBS
            .valueSerde(SchemaRegistries.forUrl("mock://" + SCOPE, null))
            .serialize(Topics.VERIFICATION_JOBS.name(), TestJobs.job("v", PASSPORT).build());
    for (long count : List.of(2_000_000_000L, 100_001L, Long.MAX_VALUE / 4, -2_000_000_000L)) {
      rawJobs.pipeInput("job-1", HostileRecords.jobClaimingArrayItems(valid, "job-1", count));
      DeadLetter d = onlyDeadLetter();
      assertEquals("UNDECODABLE", d.getReason(), "count " + count);
    }
    jobs.pipeInput("good", TestJobs.job("good", PASSPORT).build());
    assertEquals("good", requests.readValue().getJobId());
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    return rt.totalMemory() - rt.freeMemory();
  }
}
