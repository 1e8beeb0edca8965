package dev.docstream.inference.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.embedded.TopicReader;
import dev.docstream.inference.TinyModels;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.worker.InferenceWorker;
import dev.docstream.inference.worker.WorkerConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.testing.HostileRecords;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers on a real broker with a tiny model (real random weights) and random adapters: the
 * exactly-once and grouping mechanics, and bad input. Accuracy against ground truth needs the
 * shipped model and the generator, and is tested in app/.
 */
class WorkerIT {
  private static final String SCOPE = "worker-it";
  private static EmbeddedKafkaBroker broker;

  @TempDir static Path dir;

  private static final List<String> TYPES =
      List.of(
          "AAA-ID-CARD-2001",
          "BBB-ID-CARD-2002",
          "CCC-ID-CARD-2003",
          "DDD-ID-CARD-2004",
          "EEE-ID-CARD-2005",
          "FFF-ID-CARD-2006",
          "GGG-ID-CARD-2007",
          "HHH-ID-CARD-2008");

  @BeforeAll
  static void setUp() throws Exception {
    broker = EmbeddedKafkaBroker.ephemeral().start();
    String sha = TinyModels.saveRandomBase(dir.resolve("base"), 3);
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      for (int i = 0; i < TYPES.size(); i++) {
        TinyModels.randomAdapter(e.block(), TYPES.get(i), sha, 4, i)
            .write(dir.resolve("adapters").resolve(TYPES.get(i)));
      }
    }
  }

  @AfterAll
  static void tearDown() {
    broker.close();
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  private static byte[] png(Random rnd) throws Exception {
    BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(rnd.nextInt(0xffffff)));
    g.fillRect(0, 0, 64, 32);
    g.setColor(Color.BLACK);
    g.drawString(Integer.toString(rnd.nextInt(1000)), 5, 20);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  private static Map<String, Object> workerProps(String topicSuffix, String id) {
    return workerProps(broker, topicSuffix, id);
  }

  private static Map<String, Object> workerProps(
      EmbeddedKafkaBroker broker, String topicSuffix, String id) {
    Map<String, Object> p = new HashMap<>();
    p.put(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    p.put(WorkerConfig.GROUP_ID_CONFIG, "workers-" + topicSuffix);
    p.put(WorkerConfig.WORKER_ID_CONFIG, id + "-" + topicSuffix);
    p.put(WorkerConfig.BASE_MODEL_DIR_CONFIG, dir.resolve("base").toString());
    p.put(WorkerConfig.ADAPTER_DIR_CONFIG, dir.resolve("adapters").toString());
    p.put(WorkerConfig.ADAPTER_SOURCE_CONFIG, "directory");
    p.put(WorkerConfig.REPLAY_TOPIC_CONFIG, ""); // the live lane alone
    p.put(WorkerConfig.BATCH_SIZE_CONFIG, "16");
    p.put(WorkerConfig.POLL_RECORDS_CONFIG, "128");
    p.put(WorkerConfig.INPUT_TOPIC_CONFIG, "requests-" + topicSuffix);
    p.put(WorkerConfig.RESULTS_TOPIC_CONFIG, "results-" + topicSuffix);
    p.put(WorkerConfig.DLQ_TOPIC_CONFIG, "dlq-" + topicSuffix);
    return p;
  }

  /**
   * Produces requests (a fixed share of them spoiled by {@code spoil}) and returns job id -> type.
   */
  private static Map<String, String> produce(
      String topic, int count, Random rnd, Map<Integer, String> spoil) throws Exception {
    return produce(broker, topic, count, rnd, spoil);
  }

  private static Map<String, String> produce(
      EmbeddedKafkaBroker broker, String topic, int count, Random rnd, Map<Integer, String> spoil)
      throws Exception {
    var serde =
        Topics.EXTRACTION_REQUESTS.valueSerde(SchemaRegistries.forUrl("mock://" + SCOPE, null));
    Map<String, String> jobs = new TreeMap<>();
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      images.add(png(rnd));
    }
    List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
    try (var producer =
        new KafkaProducer<>(
            Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG,
                20),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < count; i++) {
        String how = spoil.getOrDefault(i, "");
        String type =
            how.equals("NO_ADAPTER") ? "ZZZ-UNSERVED-2000" : TYPES.get(rnd.nextInt(TYPES.size()));
        byte[] image =
            switch (how) {
              case "IMAGE_UNREADABLE" -> "not a png".getBytes();
              case "IMAGE_TOO_LARGE" ->
                  HostileRecords.pngDeclaring(images.get(0), 30_000, 30_000); // a bomb
              default -> images.get(rnd.nextInt(images.size()));
            };
        ExtractionRequest r =
            ExtractionRequest.newBuilder()
                .setJobId("job-" + i)
                .setTenantId("t")
                .setDocumentType(type)
                .setImage(ByteBuffer.wrap(image))
                .setImageSha256("-")
                .setRequestedFields(List.of(DocumentField.values()))
                .setSubmittedAt(Instant.now())
                .setAcceptedAt(Instant.now())
                .setPriority(Priority.LIVE)
                .build();
        byte[] value = serde.serialize(topic, r);
        if (how.equals("UNDECODABLE")) {
          value =
              claimingBillions(
                  value, "job-" + i, type); // a few dozen bytes claiming two billion fields
        }
        sent.add(producer.send(new ProducerRecord<>(topic, type, value)));
        jobs.put("job-" + i, type);
      }
      for (var f : sent) {
        f.get(); // a job the test failed to write must fail the test here, not look like a lost job
      }
    }
    return jobs;
  }

  /**
   * A request whose requested_fields array claims two billion items (header taken from a valid
   * one).
   */
  private static byte[] claimingBillions(byte[] valid, String jobId, String type) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(valid, 0, 5);
    HostileRecords.string(out, jobId);
    HostileRecords.string(out, "t");
    HostileRecords.string(out, type);
    HostileRecords.varLong(out, 3); // image: 3 bytes
    out.writeBytes(new byte[] {1, 2, 3});
    HostileRecords.string(out, "-");
    HostileRecords.varLong(out, 2_000_000_000L);
    return out.toByteArray();
  }

  /**
   * Reads the results; gives up at once if a worker has stopped on an error, and then fails with
   * it.
   */
  private static List<ConsumerRecord<String, ExtractionResult>> results(
      String topic, int expected, InferenceWorker... workers) {
    return results(broker, topic, expected, workers);
  }

  private static List<ConsumerRecord<String, ExtractionResult>> results(
      EmbeddedKafkaBroker broker, String topic, int expected, InferenceWorker... workers) {
    var results =
        TopicReader.readCommitted(
            broker.bootstrapServers(),
            topic,
            Topics.EXTRACTION_RESULTS.valueSerde(SchemaRegistries.forUrl("mock://" + SCOPE, null)),
            expected,
            Duration.ofMinutes(4),
            Duration.ofSeconds(3),
            () -> Arrays.stream(workers).anyMatch(w -> w.failure() != null));
    for (InferenceWorker w : workers) {
      assertNull(
          w.failure(),
          () ->
              "a worker stopped on an error after " + results.size() + " results: " + w.failure());
      System.out.printf(
          "%s: %d results committed, %d transactions failed, %d pauses%n",
          w.metrics(),
          w.committedResults(),
          w.metrics().transactionFailures(),
          w.metrics().pauses());
    }
    return results;
  }

  /**
   * Waits (up to 2 minutes) until {@code w} has committed {@code n} results, and asserts it did.
   */
  private static void awaitCommitted(InferenceWorker w, long n, String what)
      throws InterruptedException {
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> w.committedResults() >= n || w.failure() != null);
    assertTrue(w.committedResults() >= n, what);
  }

  private static Thread start(InferenceWorker w) {
    Thread t = new Thread(w, "worker");
    t.start();
    return t;
  }

  @Test
  void shouldProduceExactlyOneResultPerJobWithTwoWorkers() throws Exception {
    String s = "two";
    broker.createTopics(Map.of("requests-" + s, 4, "results-" + s, 4, "dlq-" + s, 1));
    InferenceWorker a = InferenceWorker.create(new WorkerConfig(workerProps(s, "a")));
    InferenceWorker b = InferenceWorker.create(new WorkerConfig(workerProps(s, "b")));
    Thread ta = start(a);
    Thread tb = start(b);
    try {
      // Both members own partitions before any job flows, or the first one may take them all.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(50))
          .until(() -> a.assignedPartitions() > 0 && b.assignedPartitions() > 0);
      assertTrue(
          a.assignedPartitions() > 0 && b.assignedPartitions() > 0,
          "both workers joined the group");
      Map<String, String> jobs = produce("requests-" + s, 2000, new Random(1), Map.of());
      var results = results("results-" + s, 2000, a, b);
      Set<String> seen = new HashSet<>();
      for (var r : results) {
        assertTrue(seen.add(r.key()), "duplicate result for " + r.key());
        assertEquals(ResultStatus.OK, r.value().getStatus());
        assertEquals(jobs.get(r.key()), r.value().getDocumentType());
        assertEquals(jobs.get(r.key()) + "@1", r.value().getAdapterId());
        assertEquals(7, r.value().getFields().size());
      }
      assertEquals(jobs.keySet(), seen);
      for (InferenceWorker w : List.of(a, b)) {
        assertTrue(
            w.metrics().maxSwapsOverGroups() <= 0,
            "a poll swapped more often than it had adapters");
      }
      System.out.printf(
          "two workers: %d + %d results, %d + %d swaps%n",
          a.committedResults(), b.committedResults(), a.engine().swaps(), b.engine().swaps());
      assertTrue(a.committedResults() > 0 && b.committedResults() > 0, "both workers took a share");
    } finally {
      a.stop();
      b.stop();
      ta.join(30_000);
      tb.join(30_000);
      a.close();
      b.close();
    }
  }

  @Test
  void shouldFailOnlyTheBadJobsAndKeepGoing() throws Exception {
    String s = "bad";
    broker.createTopics(Map.of("requests-" + s, 2, "results-" + s, 2, "dlq-" + s, 1));
    Map<Integer, String> spoil = new HashMap<>();
    Random pick = new Random(7);
    List<String> kinds =
        List.of("IMAGE_UNREADABLE", "NO_ADAPTER", "IMAGE_TOO_LARGE", "UNDECODABLE");
    while (spoil.size() < 80) {
      spoil.putIfAbsent(pick.nextInt(1000), kinds.get(spoil.size() % kinds.size()));
    }
    produce("requests-" + s, 1000, new Random(2), spoil);
    Map<String, Object> props = workerProps(s, "w");
    // A small buffer: the 1,000 waiting jobs fill it at once, so the worker must pause and resume.
    props.put(WorkerConfig.BUFFER_RECORDS_CONFIG, "256");
    InferenceWorker w = InferenceWorker.create(new WorkerConfig(props));
    Thread t = start(w);
    try {
      var results = results("results-" + s, 980, w);
      assertEquals(980, results.size(), "a result for every request that decodes");
      Map<String, Integer> byOutcome = new TreeMap<>();
      for (var r : results) {
        String expected = spoil.getOrDefault(Integer.parseInt(r.key().substring(4)), "OK");
        String actual = r.value().getStatus() == ResultStatus.OK ? "OK" : r.value().getReason();
        assertEquals(expected, actual, r.key());
        byOutcome.merge(actual, 1, Integer::sum);
      }
      assertEquals(
          Map.of("IMAGE_UNREADABLE", 20, "NO_ADAPTER", 20, "IMAGE_TOO_LARGE", 20, "OK", 920),
          byOutcome);
      var dead =
          TopicReader.readCommitted(
              broker.bootstrapServers(),
              "dlq-" + s,
              Topics.VERIFICATION_JOBS_DLQ.valueSerde(
                  SchemaRegistries.forUrl("mock://" + SCOPE, null)),
              20,
              Duration.ofSeconds(30),
              Duration.ofSeconds(1));
      assertEquals(20, dead.size(), "a dead letter for every request that does not decode");
      assertTrue(dead.stream().allMatch(d -> d.value().getReason().equals("UNDECODABLE")));
      assertTrue(
          results.stream()
              .filter(r -> "NO_ADAPTER".equals(r.value().getReason()))
              .allMatch(r -> r.value().getStatus() == ResultStatus.REJECTED));
      double committed =
          w.metrics().registry().find("docstream.worker.results").counters().stream()
              .mapToDouble(c -> c.count())
              .sum();
      assertEquals(980.0, committed, "the worker counted each committed result once");
      assertEquals(
          0,
          w.metrics().transactionFailures(),
          "bad input never fails a transaction (no abort loop)");
      assertTrue(
          w.metrics().pauses() > 0, "the worker paused its partitions when its buffer filled");
      System.out.printf(
          "bad input: %s, %d pauses with a 256-record buffer%n", byOutcome, w.metrics().pauses());
    } finally {
      w.stop();
      t.join(30_000);
      w.close();
    }
  }

  @Test
  void shouldStopAWorkerWhoseTransactionalIdIsTakenOverAndLoseNoJob() throws Exception {
    // A "zombie": the worker is restarted under the same id while the old process still runs.
    // The newcomer's initTransactions fences the old producer; the old worker must stop (not
    // re-initialise and fence the newcomer back), and the newcomer finishes every job once.
    String s = "fence";
    broker.createTopics(Map.of("requests-" + s, 2, "results-" + s, 2, "dlq-" + s, 1));
    Map<String, String> jobs = produce("requests-" + s, 1000, new Random(5), Map.of());
    InferenceWorker old = InferenceWorker.create(new WorkerConfig(workerProps(s, "w")));
    Thread to = start(old);
    InferenceWorker newcomer = null;
    Thread tn = null;
    try {
      awaitCommitted(old, 200, "the first worker got going");
      newcomer = InferenceWorker.create(new WorkerConfig(workerProps(s, "w")));
      tn = start(newcomer);
      to.join(60_000);
      assertFalse(to.isAlive(), "the fenced worker stopped");
      assertTrue(
          InferenceWorker.isFatal(old.failure()),
          "it stopped because it was fenced: " + old.failure());
      var results = results("results-" + s, 1000, newcomer);
      Set<String> seen = new HashSet<>();
      for (var r : results) {
        assertTrue(seen.add(r.key()), "duplicate result for " + r.key());
      }
      assertEquals(jobs.keySet(), seen, "every job has a result");
      System.out.printf(
          "fenced after %d results (%s); the newcomer committed %d; %d results, each job once%n",
          old.committedResults(),
          old.failure().getClass().getSimpleName(),
          newcomer.committedResults(),
          results.size());
    } finally {
      old.stop();
      to.join(30_000);
      old.close();
      if (newcomer != null) {
        newcomer.stop();
        tn.join(30_000);
        newcomer.close();
      }
    }
  }

  @Test
  void shouldDeliverEveryJobExactlyOnceAcrossABrokerCrash() throws Exception {
    String s = "crash";
    try (EmbeddedKafkaBroker own =
        EmbeddedKafkaBroker.persistent(dir.resolve("crash-broker"), 0).start()) {
      own.createTopics(Map.of("requests-" + s, 2, "results-" + s, 2, "dlq-" + s, 1));
      Map<String, String> jobs = produce(own, "requests-" + s, 1500, new Random(4), Map.of());
      Map<String, Object> props = workerProps(own, s, "w");
      // Short client timeouts, so that the outage fails the open transaction (its sends, commit or
      // abort time out) rather than the producer riding it out: the recovery path is what is
      // tested.
      props.put("producer.max.block.ms", "2000");
      props.put("producer.request.timeout.ms", "1000");
      props.put("producer.delivery.timeout.ms", "2500");
      props.put(WorkerConfig.TX_RETRIES_CONFIG, "30");
      InferenceWorker w = InferenceWorker.create(new WorkerConfig(props));
      Thread t = start(w);
      try {
        awaitCommitted(w, 300, "the worker got going before the crash");
        long atCrash = w.committedResults();
        own.kill(); // mid-stream: a transaction is open or about to be
        Thread.sleep(2_000);
        own.start();
        var results = results(own, "results-" + s, 1500, w);
        Set<String> seen = new HashSet<>();
        for (var r : results) {
          assertTrue(seen.add(r.key()), "duplicate result for " + r.key());
          assertEquals(ResultStatus.OK, r.value().getStatus());
        }
        assertEquals(jobs.keySet(), seen, "every job has a result");
        assertTrue(
            w.metrics().transactionFailures() > 0,
            "the outage failed a transaction (the path under test ran)");
        System.out.printf(
            "broker crash after %d committed results: %d results, each job once; %d transactions failed%n",
            atCrash, results.size(), w.metrics().transactionFailures());
      } finally {
        w.stop();
        t.join(30_000);
        w.close();
      }
    }
  }
}
