package dev.docstream.app.qc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.topology.qc.QcRouterConfig;
import dev.docstream.topology.qc.QcRouterTopology;
import dev.docstream.topology.qc.QcSampler;
import dev.docstream.topology.qc.review.QualityFigures;
import dev.docstream.topology.qc.review.ReviewQueue;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QC loop on a real broker: several thousand results through the router, two analysts
 * (programs, through the HTTP API) at once, a restart of the review service in the middle, and the
 * quality figures checked against what this test computes from the same topics.
 */
class QcReviewIT {
  private static final String SCOPE = "qc-review-it";
  private static final List<String> TYPES =
      List.of("AAA-ID-2001", "BBB-PASSPORT-2002", "CCC-ID-2003");
  private static final int RESULTS = 3000;
  private static final double RANDOM_SHARE = 0.1;
  private static final double NEW_SHARE = 0.3;
  private static final int NEW_RESULTS = 150;
  private static final double THRESHOLD = 0.5;
  private static final ObjectMapper JSON = new ObjectMapper();

  private static EmbeddedKafkaBroker broker;
  private static SchemaRegistry registry;
  @TempDir static Path tmp;

  @BeforeAll
  static void startBroker() {
    broker = EmbeddedKafkaBroker.ephemeral().start();
    EmbeddedKafkaBroker.createTopics(
        broker.bootstrapServers(),
        Map.of(
            Topics.EXTRACTION_RESULTS.name(), 1,
            Topics.QC_REVIEW.name(), 2,
            Topics.QC_VERDICTS.name(), 1,
            Topics.QC_LEASES.name(), 1),
        Map.of(Topics.QC_LEASES.name(), Map.of("cleanup.policy", "compact")));
    registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  private static ExtractionResult result(int i, Random random) {
    String type = TYPES.get(i % TYPES.size());
    boolean fallback = i % 50 == 7;
    List<ExtractedField> fields = new ArrayList<>();
    for (int f = 0; f < 2; f++) {
      fields.add(
          ExtractedField.newBuilder()
              .setField(DocumentField.values()[f])
              .setValue("V" + i + "-" + f)
              .setConfidence((float) (0.45 + 0.55 * random.nextDouble()))
              .build());
    }
    return ExtractionResult.newBuilder()
        .setJobId("job-" + i)
        .setTenantId("t1")
        .setDocumentType(type)
        .setStatus(ResultStatus.OK)
        .setReason(fallback ? QcSampler.BASE_MODEL_FALLBACK : null)
        .setFields(fields)
        .setAdapterId(fallback ? null : type + "@1")
        .setAdapterVersion(fallback ? null : 1)
        .setBaseModelId("base")
        .setSubmittedAt(Instant.now())
        .setCompletedAt(Instant.now())
        .setModelMs(1)
        .setBatchSize(1)
        .setWorkerId("w")
        .setImageSha256(null)
        .build();
  }

  /** Closed after the test whatever happens, so a failure leaves no client retrying. */
  private final List<AutoCloseable> opened = new ArrayList<>();

  @org.junit.jupiter.api.AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : opened) {
      c.close();
    }
  }

  private ReviewService review(Path images) throws Exception {
    Map<String, Object> c = new HashMap<>();
    c.put(ReviewConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    c.put(ReviewConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    c.put(ReviewConfig.PORT_CONFIG, 0);
    c.put(ReviewConfig.IMAGES_DIR_CONFIG, images.toString());
    c.put(
        ReviewConfig.ANALYSTS_CONFIG,
        "alice:" + Analysts.hash("alice-pw") + ",bob:" + Analysts.hash("bob-pw"));
    ReviewService s = ReviewService.start(new ReviewConfig(c), null, Clock.systemUTC());
    opened.add(s);
    return s;
  }

  @Test
  void shouldSampleReviewOnceAndReportExactlyTheAccuracyOfTheVerdicts() throws Exception {
    // Every log line of the router and the service, at DEBUG: none may hold a field value.
    ch.qos.logback.classic.Logger docstream =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("dev.docstream");
    ch.qos.logback.classic.Level level = docstream.getLevel();
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    docstream.addAppender(logs);
    docstream.setLevel(ch.qos.logback.classic.Level.DEBUG);
    docstream.setAdditive(false); // kept here, not printed
    try {
      run();
    } finally {
      // What went wrong, if anything: the warnings are kept, not printed, while the test runs.
      logs.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
          .forEach(
              e ->
                  System.out.println(
                      "logged: " + e.getLoggerName() + " " + e.getFormattedMessage()));
      docstream.detachAppender(logs);
      docstream.setLevel(level);
      docstream.setAdditive(true);
    }
    assertTrue(!logs.list.isEmpty(), "the service logged its verdicts at DEBUG");
    for (var e : logs.list) {
      String line = e.getFormattedMessage();
      assertTrue(!line.matches("(?s).*V\\d+-\\d.*"), "a field value in a log line: " + line);
    }
  }

  private void run() throws Exception {
    // 1. Results in; the router samples them.
    Map<String, Object> router = new HashMap<>();
    router.put(QcRouterConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    router.put(QcRouterConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    router.put(QcRouterConfig.STATE_DIR_CONFIG, tmp.resolve("router").toString());
    router.put(QcRouterConfig.RANDOM_SHARE_CONFIG, String.valueOf(RANDOM_SHARE));
    router.put(QcRouterConfig.NEW_ADAPTER_SHARE_CONFIG, String.valueOf(NEW_SHARE));
    router.put(QcRouterConfig.NEW_ADAPTER_RESULTS_CONFIG, String.valueOf(NEW_RESULTS));
    router.put(QcRouterConfig.LOW_CONFIDENCE_THRESHOLD_CONFIG, String.valueOf(THRESHOLD));
    QcRouterConfig routerConfig = new QcRouterConfig(router);
    KafkaStreams streams = QcRouterTopology.start(routerConfig);
    opened.add(() -> streams.close(Duration.ofSeconds(10)));
    Random random = new Random(5);
    List<ExtractionResult> results = new ArrayList<>();
    var serde = Topics.EXTRACTION_RESULTS.valueSerde(registry);
    try (var producer =
        new KafkaProducer<>(
            Map.<String, Object>of("bootstrap.servers", broker.bootstrapServers()),
            new StringSerializer(),
            serde)) {
      for (int i = 0; i < RESULTS; i++) {
        ExtractionResult r = result(i, random);
        results.add(r);
        producer.send(new ProducerRecord<>(Topics.EXTRACTION_RESULTS.name(), r.getJobId(), r));
      }
    }
    // What the rules say, computed here on the same sequence (one partition: one order).
    QcSampler sampler = routerConfig.sampler();
    Map<String, List<String>> expected = new TreeMap<>();
    Map<String, Long> seen = new HashMap<>();
    int newAdapterEligible = 0;
    for (ExtractionResult r : results) {
      long before = r.getAdapterId() == null ? 0 : seen.merge(r.getAdapterId(), 1L, Long::sum) - 1;
      newAdapterEligible += r.getAdapterId() != null && before < NEW_RESULTS ? 1 : 0;
      List<String> reasons = sampler.reasons(r, before);
      if (!reasons.isEmpty()) {
        expected.put(r.getJobId(), reasons);
      }
    }
    Map<String, QcTask> tasks = new TreeMap<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                read(
                        Topics.QC_REVIEW.name(),
                        tasks,
                        Topics.QC_REVIEW.valueSerde(registry),
                        QcTask::getJobId)
                    >= expected.size());
    streams.close(Duration.ofSeconds(10));
    Map<String, List<String>> got = new TreeMap<>();
    tasks.forEach((id, t) -> got.put(id, t.getSampleReasons()));
    assertEquals(expected, got, "one task per sampled job, with every reason that applied");

    // Each rule's share is within a binomial tolerance (4 standard deviations) of its setting.
    long random_ = got.values().stream().filter(r -> r.contains(QcSampler.RANDOM)).count();
    assertWithin(random_, RESULTS, RANDOM_SHARE, "RANDOM");
    long fresh = got.values().stream().filter(r -> r.contains(QcSampler.NEW_ADAPTER)).count();
    assertWithin(fresh, newAdapterEligible, NEW_SHARE, "NEW_ADAPTER");
    long low =
        results.stream()
            .filter(r -> r.getFields().stream().anyMatch(f -> f.getConfidence() < THRESHOLD))
            .count();
    assertEquals(
        low, got.values().stream().filter(r -> r.contains(QcSampler.LOW_CONFIDENCE)).count());
    assertEquals(
        RESULTS / 50,
        got.values().stream().filter(r -> r.contains(QcSampler.BASE_MODEL_FALLBACK)).count());

    // 2. The review service: no session, no data.
    Path images = tmp.resolve("images");
    ReviewService service = review(images);
    URI base = URI.create("http://localhost:" + service.port());
    HttpClient anonymous = HttpClient.newHttpClient();
    for (String path :
        List.of("/api/queues", "/api/quality", "/api/tasks/job-1/image", "/index.html")) {
      assertEquals(
          401,
          anonymous
              .send(
                  HttpRequest.newBuilder(base.resolve(path)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode(),
          path);
    }

    // 3. Alice takes a task in each queue; the service restarts; nothing is lost.
    Client alice = new Client(base, "alice", "alice-pw");
    Map<String, String> aliceTasks = new HashMap<>();
    for (String type : TYPES) {
      aliceTasks.put(type, alice.next(type).get("jobId").asText());
    }
    ReviewQueue before = service.log().queue();
    Set<String> openBefore = open(before, tasks.keySet());
    Map<String, Instant> leasesBefore = new HashMap<>();
    aliceTasks
        .values()
        .forEach(
            id ->
                leasesBefore.put(
                    id, before.liveLease(id, Instant.now()).orElseThrow().expiresAt()));
    service.close();
    service = review(images);
    base = URI.create("http://localhost:" + service.port());
    ReviewQueue after = service.log().queue();
    assertEquals(openBefore, open(after, tasks.keySet()), "open tasks after the restart");
    for (String id : aliceTasks.values()) {
      var lease = after.liveLease(id, Instant.now()).orElseThrow();
      assertEquals("alice", lease.analyst());
      assertEquals(leasesBefore.get(id), lease.expiresAt());
    }
    alice = new Client(base, "alice", "alice-pw");
    Client bob = new Client(base, "bob", "bob-pw");
    for (String type : TYPES) {
      JsonNode b = bob.next(type);
      if (b != null) {
        assertNotEquals(
            aliceTasks.get(type), b.get("jobId").asText(), "bob is never offered alice's task");
        bob.skip(b.get("jobId").asText());
      }
      assertEquals(
          aliceTasks.get(type), alice.next(type).get("jobId").asText(), "her lease survived");
    }
    // A double submit is one verdict.
    String twice = aliceTasks.get(TYPES.get(0));
    assertTrue(!alice.verdict(twice).get("duplicate").asBoolean());
    assertTrue(alice.verdict(twice).get("duplicate").asBoolean());

    // 4. Two simulated analysts review everything at once (5 % of their answers wrong).
    Map<String, Map<DocumentField, String>> truth = new HashMap<>();
    Random wrong = new Random(9);
    for (ExtractionResult r : results) {
      Map<DocumentField, String> t = new EnumMap<>(DocumentField.class);
      r.getFields()
          .forEach(
              f ->
                  t.put(
                      f.getField(), wrong.nextDouble() < 0.1 ? f.getValue() + "Z" : f.getValue()));
      truth.put(r.getJobId(), t);
    }
    ReviewQueue queue = service.log().queue();
    int taskCount = tasks.size();
    List<SimulatedAnalyst> analysts = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (String[] who : new String[][] {{"alice", "alice-pw"}, {"bob", "bob-pw"}}) {
      SimulatedAnalyst a =
          new SimulatedAnalyst(
              base,
              who[0],
              who[1],
              truth::get,
              0.05,
              who[0].hashCode(),
              () -> queue.counts(Instant.now())[2] < taskCount);
      analysts.add(a);
      Thread t = new Thread(a, "analyst-" + who[0]);
      t.start();
      threads.add(t);
    }
    // Alice's two other leased tasks come back to her first (she holds them); all get decided.
    for (Thread t : threads) {
      t.join(Duration.ofMinutes(4).toMillis());
    }
    for (SimulatedAnalyst a : analysts) {
      assertNull(a.failure());
    }
    assertTrue(analysts.get(0).reviewed() > 0 && analysts.get(1).reviewed() > 0, "both worked");

    // 5. Every task has exactly one verdict on the topic, and nothing else does.
    Map<String, Integer> verdictCount = new HashMap<>();
    Map<String, QcVerdict> verdicts = new HashMap<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              readAll(
                  Topics.QC_VERDICTS.name(),
                  Topics.QC_VERDICTS.valueSerde(registry),
                  verdictCount,
                  verdicts);
              return verdicts.size() >= taskCount;
            });
    assertEquals(tasks.keySet(), verdicts.keySet());
    assertTrue(verdictCount.values().stream().allMatch(n -> n == 1), "one verdict per task");

    // 6. The figures the service reports equal those computed here from the topics.
    Map<String, int[]> mine = new TreeMap<>();
    for (QcVerdict v : verdicts.values()) {
      QcTask t = tasks.get(v.getJobId());
      String key =
          t.getDocumentType()
              + "/"
              + (t.getAdapterId() == null ? "base" : t.getAdapterId())
              + "/"
              + QualityFigures.sampleOf(t);
      for (ExtractedField f : t.getFields()) {
        int[] c = mine.computeIfAbsent(key, k -> new int[2]);
        c[0]++;
        c[1] += QualityFigures.fieldCorrect(f, v) ? 1 : 0;
      }
    }
    Map<String, int[]> reported = new TreeMap<>();
    for (JsonNode row : alice.get("/api/quality").get("rows")) {
      if (row.get("field").asText().equals("ALL")) {
        String key =
            row.get("documentType").asText()
                + "/"
                + row.get("adapterId").asText()
                + "/"
                + row.get("sample").asText();
        reported.put(key, new int[] {row.get("reviewed").asInt(), row.get("correct").asInt()});
        int[] m = mine.get(key);
        assertTrue(m != null, key + " reported, computed: " + mine.keySet());
        assertEquals((double) m[1] / m[0], row.get("accuracy").asDouble(), 0.0, "accuracy exactly");
      }
    }
    assertEquals(mine.keySet(), reported.keySet());
    mine.forEach(
        (k, v) ->
            assertEquals(List.of(v[0], v[1]), List.of(reported.get(k)[0], reported.get(k)[1]), k));
    assertTrue(service.scrape().contains("docstream_qc_accuracy{"), "quality metrics exported");
    service.close();
  }

  private static void assertWithin(long got, long n, double p, String rule) {
    double sd = Math.sqrt(n * p * (1 - p));
    assertTrue(Math.abs(got - n * p) <= 4 * sd, rule + ": " + got + " of " + n + " at share " + p);
  }

  private static Set<String> open(ReviewQueue q, Set<String> ids) {
    Set<String> out = new HashSet<>();
    for (String id : ids) {
      if (q.verdictOf(id).isEmpty() && q.liveLease(id, Instant.now()).isEmpty()) {
        out.add(id);
      }
    }
    return out;
  }

  private static <V> int read(
      String topic,
      Map<String, V> into,
      org.apache.kafka.common.serialization.Deserializer<V> serde,
      java.util.function.Function<V, String> id) {
    Map<String, Integer> counts = new HashMap<>();
    Map<String, V> all = new HashMap<>();
    readAll(topic, serde, counts, all);
    into.putAll(all);
    assertTrue(counts.values().stream().allMatch(n -> n == 1), "one record per job on " + topic);
    return into.size();
  }

  private static <V> void readAll(
      String topic,
      org.apache.kafka.common.serialization.Deserializer<V> serde,
      Map<String, Integer> counts,
      Map<String, V> into) {
    counts.clear();
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (var consumer =
        new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
      var parts =
          consumer.partitionsFor(topic).stream()
              .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      var end = consumer.endOffsets(parts);
      while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          counts.merge(r.key(), 1, Integer::sum);
          into.put(r.key(), serde.deserialize(topic, r.value()));
        }
      }
    }
  }

  /** A signed-in analyst's HTTP session. */
  private static final class Client {
    private final URI base;
    private final HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .cookieHandler(new CookieManager())
            .build();

    Client(URI base, String name, String password) throws Exception {
      this.base = base;
      HttpResponse<String> r =
          post("/api/login", "{\"analyst\":\"" + name + "\",\"password\":\"" + password + "\"}");
      assertEquals(200, r.statusCode());
    }

    JsonNode next(String type) throws Exception {
      HttpResponse<String> r = post("/api/queues/" + type + "/next", "{}");
      return r.statusCode() == 204 ? null : JSON.readTree(r.body());
    }

    void skip(String job) throws Exception {
      assertEquals(204, post("/api/tasks/" + job + "/skip", "{}").statusCode());
    }

    JsonNode verdict(String job) throws Exception {
      HttpResponse<String> r =
          post("/api/tasks/" + job + "/verdict", "{\"verdict\":\"CORRECT\",\"corrections\":[]}");
      assertEquals(200, r.statusCode(), r.body());
      return JSON.readTree(r.body());
    }

    JsonNode get(String path) throws Exception {
      return JSON.readTree(
          http.send(
                  HttpRequest.newBuilder(base.resolve(path)).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
      return http.send(
          HttpRequest.newBuilder(base.resolve(path))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }
}
