package dev.docstream.topology.qc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QcRouterTopologyTest {
  private static final String SCOPE = "qc-router-test";
  private static final String PASSPORT = "GBR-PASSPORT-2015";
  private static final String CARD = "FRA-ID-CARD-2020";

  @TempDir Path tmp;

  private TopologyTestDriver driver;
  private TestInputTopic<String, ExtractionResult> results;
  private TestInputTopic<String, byte[]> rawResults;
  private TestOutputTopic<String, QcTask> tasks;

  private void start(Map<String, String> settings) {
    Map<String, String> props = new HashMap<>(settings);
    props.put(QcRouterConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    props.put(QcRouterConfig.STATE_DIR_CONFIG, tmp.toString());
    QcRouterConfig config = new QcRouterConfig(props);
    driver =
        new TopologyTestDriver(QcRouterTopology.buildTopology(config), config.streamsProperties());
    var registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
    results =
        driver.createInputTopic(
            Topics.EXTRACTION_RESULTS.name(),
            new StringSerializer(),
            Topics.EXTRACTION_RESULTS.valueSerde(registry));
    rawResults =
        driver.createInputTopic(
            Topics.EXTRACTION_RESULTS.name(), new StringSerializer(), new ByteArraySerializer());
    tasks =
        driver.createOutputTopic(
            Topics.QC_REVIEW.name(),
            new StringDeserializer(),
            Topics.QC_REVIEW.valueSerde(registry));
  }

  @AfterEach
  void stop() {
    if (driver != null) {
      driver.close();
    }
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  /** Only the rule under test: every other share 0 and no field under the threshold. */
  private static Map<String, String> only(String... keyValues) {
    Map<String, String> m = new HashMap<>();
    m.put(QcRouterConfig.RANDOM_SHARE_CONFIG, "0");
    m.put(QcRouterConfig.NEW_ADAPTER_SHARE_CONFIG, "0");
    m.put(QcRouterConfig.LOW_CONFIDENCE_THRESHOLD_CONFIG, "0");
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return m;
  }

  static ExtractionResult.Builder result(String jobId, String type, float... confidences) {
    List<ExtractedField> fields = new java.util.ArrayList<>();
    DocumentField[] all = DocumentField.values();
    for (int i = 0; i < confidences.length; i++) {
      fields.add(
          ExtractedField.newBuilder()
              .setField(all[i])
              .setValue("V" + i)
              .setConfidence(confidences[i])
              .build());
    }
    return ExtractionResult.newBuilder()
        .setJobId(jobId)
        .setTenantId("t1")
        .setDocumentType(type)
        .setStatus(ResultStatus.OK)
        .setFields(fields)
        .setAdapterId(type + "@1")
        .setAdapterVersion(1)
        .setBaseModelId("base")
        .setSubmittedAt(Instant.EPOCH)
        .setCompletedAt(Instant.EPOCH)
        .setModelMs(1)
        .setBatchSize(1)
        .setWorkerId("w")
        .setImageSha256("ab".repeat(32));
  }

  private void pipe(ExtractionResult r) {
    results.pipeInput(r.getJobId(), r);
  }

  @Test
  void shouldSampleAResultWithAFieldUnderItsTypesThreshold() {
    start(
        only(
            QcRouterConfig.LOW_CONFIDENCE_THRESHOLD_CONFIG,
            "0.8",
            QcRouterConfig.LOW_CONFIDENCE_THRESHOLDS_CONFIG,
            CARD + "=0.5"));
    pipe(result("j1", PASSPORT, 0.99f, 0.79f).build());
    pipe(result("j2", PASSPORT, 0.99f, 0.81f).build());
    pipe(result("j3", CARD, 0.99f, 0.79f).build());
    pipe(result("j4", CARD, 0.49f, 0.99f).build());
    List<QcTask> out = tasks.readValuesToList();
    assertEquals(List.of("j1", "j4"), out.stream().map(QcTask::getJobId).toList());
    assertEquals(List.of(QcSampler.LOW_CONFIDENCE), out.get(0).getSampleReasons());
    assertEquals(QcSampler.LOW_CONFIDENCE, out.get(0).getSampleReason());
    assertEquals("ab".repeat(32), out.get(0).getImageSha256());
    assertEquals(2, out.get(0).getFields().size());
  }

  @Test
  void shouldSampleTheAuditShareByAHashOfTheJobIdSoAReplayGetsTheSameDecision() {
    start(only(QcRouterConfig.RANDOM_SHARE_CONFIG, "0.1"));
    int n = 5000;
    java.util.Set<String> sampled = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      pipe(result("job-" + i, PASSPORT, 0.99f).build());
    }
    tasks.readValuesToList().forEach(t -> sampled.add(t.getJobId()));
    // Binomial(5000, 0.1): sd = 21.2; 4 sd either side.
    assertTrue(Math.abs(sampled.size() - 500) < 85, sampled.size() + " of " + n);
    for (int i = 0; i < 200; i++) {
      pipe(
          result("replay-" + i, PASSPORT, 0.99f)
              .setReplayOf("job-" + i)
              .setPriority(dev.docstream.schemas.Priority.REPLAY)
              .build());
    }
    java.util.Set<String> replayed = new java.util.HashSet<>();
    tasks.readValuesToList().forEach(t -> replayed.add(t.getReplayOf()));
    for (int i = 0; i < 200; i++) {
      assertEquals(
          sampled.contains("job-" + i),
          replayed.contains("job-" + i),
          "job-" + i + " and its replay");
    }
    assertTrue(sampled.stream().allMatch(id -> QcSampler.unit("random", id) < 0.1));
  }

  @Test
  void shouldGiveTheSameDecisionForTheSameJobIdInAnotherRouter() {
    QcSampler a = new QcSampler(0, Map.of(), 0.3, Map.of(), 0, 0);
    QcSampler b = new QcSampler(0, Map.of(), 0.3, Map.of(), 0, 0);
    for (int i = 0; i < 100; i++) {
      ExtractionResult r = result("job-" + i, PASSPORT, 0.99f).build();
      assertEquals(a.reasons(r, 0), b.reasons(r, 0));
    }
  }

  @Test
  void shouldSampleOnlyTheFirstResultsOfANewAdapterVersionAtTheHigherShare() {
    start(
        only(
            QcRouterConfig.NEW_ADAPTER_SHARE_CONFIG,
            "1",
            QcRouterConfig.NEW_ADAPTER_RESULTS_CONFIG,
            "3"));
    for (int i = 0; i < 5; i++) {
      pipe(result("a-" + i, PASSPORT, 0.99f).build());
    }
    for (int i = 0; i < 2; i++) {
      pipe(
          result("b-" + i, PASSPORT, 0.99f)
              .setAdapterId(PASSPORT + "@2")
              .setAdapterVersion(2)
              .build());
    }
    pipe(result("base-0", PASSPORT, 0.99f).setAdapterId(null).setAdapterVersion(null).build());
    assertEquals(
        List.of("a-0", "a-1", "a-2", "b-0", "b-1"),
        tasks.readValuesToList().stream().map(QcTask::getJobId).toList());
  }

  @Test
  void shouldAlwaysSampleABaseModelFallback() {
    start(only());
    pipe(
        result("f1", PASSPORT, 0.99f)
            .setReason(QcSampler.BASE_MODEL_FALLBACK)
            .setAdapterId(null)
            .setAdapterVersion(null)
            .build());
    pipe(result("ok", PASSPORT, 0.99f).build());
    List<QcTask> out = tasks.readValuesToList();
    assertEquals(1, out.size());
    assertEquals(List.of(QcSampler.BASE_MODEL_FALLBACK), out.get(0).getSampleReasons());
  }

  @Test
  void shouldEmitOneTaskPerJobNamingEveryReasonThatApplied() {
    start(
        only(
            QcRouterConfig.LOW_CONFIDENCE_THRESHOLD_CONFIG,
            "0.5",
            QcRouterConfig.RANDOM_SHARE_CONFIG,
            "1",
            QcRouterConfig.NEW_ADAPTER_SHARE_CONFIG,
            "1"));
    ExtractionResult r =
        result("j1", PASSPORT, 0.2f).setReason(QcSampler.BASE_MODEL_FALLBACK).build();
    pipe(r);
    pipe(r); // the same result again (a batch re-processed upstream)
    List<QcTask> out = tasks.readValuesToList();
    assertEquals(1, out.size(), "one task per job");
    assertEquals(
        List.of(
            QcSampler.LOW_CONFIDENCE,
            QcSampler.RANDOM,
            QcSampler.NEW_ADAPTER,
            QcSampler.BASE_MODEL_FALLBACK),
        out.get(0).getSampleReasons());
  }

  @Test
  void shouldSkipFailedAndUndecodableResultsAndGoOn() {
    start(only(QcRouterConfig.RANDOM_SHARE_CONFIG, "1"));
    pipe(
        result("failed", PASSPORT)
            .setStatus(ResultStatus.FAILED)
            .setReason("IMAGE_UNREADABLE")
            .build());
    rawResults.pipeInput("garbage", new byte[] {0, 0, 0, 0, 1, 2, 3});
    rawResults.pipeInput("tombstone", (byte[]) null);
    pipe(result("good", PASSPORT, 0.99f).build());
    assertEquals(List.of("good"), tasks.readValuesToList().stream().map(QcTask::getJobId).toList());
  }

  @Test
  void shouldRefuseAPerTypeOverrideThatIsNotAShare() {
    org.junit.jupiter.api.Assertions.assertThrows(
        org.apache.kafka.common.config.ConfigException.class,
        () -> new QcRouterConfig(Map.of(QcRouterConfig.RANDOM_SHARES_CONFIG, PASSPORT + "=1.5")));
  }
}
