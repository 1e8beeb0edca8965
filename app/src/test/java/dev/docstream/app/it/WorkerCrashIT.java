package dev.docstream.app.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.app.cli.Docstream;
import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.embedded.RegistryServer;
import dev.docstream.embedded.TopicReader;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.worker.SchedulingKeys;
import dev.docstream.inference.worker.WorkerConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.training.AdapterTraining;
import dev.docstream.training.BaseTraining;
import dev.docstream.training.ExtractionTrainer;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.IdentitySampler;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker in a child JVM is killed with SIGKILL three times while 3,000 jobs flow; a
 * read_committed consumer must then see every job exactly once. Uses a tiny model trained on the
 * spot: what is tested is the transaction protocol, not accuracy.
 */
class WorkerCrashIT {
  private static final String SCOPE = "crash-it";
  private static final List<String> TYPES =
      List.of("GBR-PASSPORT-2000", "NLD-ID-CARD-2024", "SWE-PASSPORT-2002");
  private static final int JOBS = 3000;

  @TempDir Path dir;

  private Thread counter;

  private void trainTinyModels() throws Exception {
    ExtractionTrainer.Options quick = new ExtractionTrainer.Options(3, 8, 0.003f, 1, 1.0f);
    BaseTraining.run(ModelConfig.tiny(), quick, 10, 1, dir.resolve("base"));
    for (String t : TYPES) {
      AdapterTraining.trainAdapter(
          dir.resolve("base"),
          t,
          LoraSpec.allLinear(2),
          quick,
          2,
          dir.resolve("adapters").resolve(t));
    }
  }

  /**
   * Out of order: one partition holds a cold type's job first, then 600 of a hot type. The cold job
   * waits for its micro-batch (a long max batch delay) while the hot ones run, so the committed
   * offset stays at the cold job's and the done hot jobs are named in its metadata. The worker is
   * killed then; the next one, under the same id, reads from that offset, skips what the metadata
   * names and runs the rest: every job exactly once.
   */
  @Test
  void shouldRedoNothingAfterAKillWhileDoneOffsetsSitBeyondTheCommittedOne() throws Exception {
    trainTinyModels();
    int hot = 600;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.ephemeral().start();
        RegistryServer registry = new RegistryServer(InMemorySchemaRegistry.scope(SCOPE), 0)) {
      broker.createTopics(Map.of("crash-requests", 1, "crash-results", 1, "crash-dlq", 1));
      List<String> types = new ArrayList<>();
      types.add(TYPES.get(2));
      for (int i = 0; i < hot; i++) {
        types.add(TYPES.get(0));
      }
      produce(broker.bootstrapServers(), types);
      AtomicInteger committed = startCounter(broker);
      Map<String, String> slow = Map.of(SchedulingKeys.MAX_BATCH_DELAY_MS_CONFIG, "15000");
      Process first = startWorker(broker, registry, 0, slow);
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(20))
          .until(() -> committed.get() >= 200 || !first.isAlive());
      assertTrue(first.isAlive(), "worker died on its own; see " + dir.resolve("worker-0.log"));
      OffsetAndMetadata c;
      try (Admin admin =
          Admin.create(
              Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
        c =
            admin
                .listConsumerGroupOffsets("crash-workers")
                .partitionsToOffsetAndMetadata()
                .get()
                .get(new TopicPartition("crash-requests", 0));
      }
      first.destroyForcibly().waitFor(); // SIGKILL
      int killedAt = committed.get();
      assertEquals(0, c.offset(), "the cold job (offset 0) is not done: the commit stays there");
      assertTrue(c.metadata().startsWith("ds1:"), "the done offsets beyond: " + c.metadata());
      assertTrue(killedAt < hot + 1, "the cold job was not run before the kill");
      Process second = startWorker(broker, registry, 1, slow);
      try {
        List<String> ids = resultIds(broker, hot + 1, Duration.ofMinutes(2));
        long distinct = ids.stream().distinct().count();
        System.out.printf(
            "out-of-order crash test: killed after %d committed results (commit at offset %d with"
                + " done offsets beyond); %d results read, %d distinct, %d lost, %d duplicated%n",
            killedAt, c.offset(), ids.size(), distinct, hot + 1 - distinct, ids.size() - distinct);
        assertEquals(hot + 1, distinct, "lost jobs");
        assertEquals(hot + 1, ids.size(), "duplicated results");
        assertTrue(ids.contains("job-0"), "the cold job ran after the restart");
      } finally {
        second.destroy();
        second.waitFor();
      }
    } finally {
      stopCounter();
      InMemorySchemaRegistry.dropScope(SCOPE);
    }
  }

  @Test
  void shouldDeliverEveryJobExactlyOnceAcrossThreeKills() throws Exception {
    trainTinyModels();
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.ephemeral().start();
        RegistryServer registry = new RegistryServer(InMemorySchemaRegistry.scope(SCOPE), 0)) {
      broker.createTopics(Map.of("crash-requests", 4, "crash-results", 4, "crash-dlq", 1));
      Random pick = new Random(1);
      List<String> types = new ArrayList<>();
      for (int i = 0; i < JOBS; i++) {
        types.add(TYPES.get(pick.nextInt(TYPES.size())));
      }
      produce(broker.bootstrapServers(), types);

      AtomicInteger committed = startCounter(broker);

      Random rnd = new Random(3);
      List<Integer> killedAt = new ArrayList<>();
      for (int kill = 0; kill < 3; kill++) {
        Process worker = startWorker(broker, registry, kill, Map.of());
        int before = committed.get();
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(20))
            .until(() -> committed.get() >= before + 100 || !worker.isAlive());
        assertTrue(
            worker.isAlive(),
            "worker died on its own; see " + dir.resolve("worker-" + kill + ".log"));
        assertTrue(committed.get() >= before + 100, "worker " + kill + " made no progress");
        Thread.sleep(rnd.nextInt(400)); // somewhere inside the next batch
        worker.destroyForcibly().waitFor(); // SIGKILL
        killedAt.add(committed.get());
      }
      Process last = startWorker(broker, registry, 3, Map.of());
      try {
        List<String> ids = resultIds(broker, JOBS, Duration.ofMinutes(5));
        long distinct = ids.stream().distinct().count();
        System.out.printf(
            "crash test: killed after %s committed results; %d results read, %d distinct, %d lost, "
                + "%d duplicated%n",
            killedAt, ids.size(), distinct, JOBS - distinct, ids.size() - distinct);
        assertEquals(JOBS, distinct, "lost jobs");
        assertEquals(JOBS, ids.size(), "duplicated results");
      } finally {
        last.destroy();
        last.waitFor();
      }
    } finally {
      stopCounter();
      InMemorySchemaRegistry.dropScope(SCOPE);
    }
  }

  /** One request per entry of {@code types}, in order, job ids job-0, job-1, ... */
  private void produce(String bootstrap, List<String> types) throws Exception {
    var serde = Topics.EXTRACTION_REQUESTS.valueSerde(InMemorySchemaRegistry.scope(SCOPE));
    Random rnd = new Random(1);
    Map<String, List<byte[]>> images = new HashMap<>();
    for (String t : TYPES) {
      DocumentTypeSpec spec = DocumentTypeSpec.forId(t);
      List<byte[]> list = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        list.add(
            DocumentRenderer.render(
                    spec,
                    IdentitySampler.sample(spec, rnd),
                    DocumentRenderer.Augmentation.MILD,
                    rnd)
                .png());
      }
      images.put(t, list);
    }
    try (var producer =
        new KafkaProducer<>(
            Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.LINGER_MS_CONFIG,
                20),
            new StringSerializer(),
            new ByteArraySerializer())) {
      for (int i = 0; i < types.size(); i++) {
        String type = types.get(i);
        ExtractionRequest r =
            ExtractionRequest.newBuilder()
                .setJobId("job-" + i)
                .setTenantId("t")
                .setDocumentType(type)
                .setImage(ByteBuffer.wrap(images.get(type).get(i % 10)))
                .setImageSha256("-")
                .setRequestedFields(List.of(DocumentField.values()))
                .setSubmittedAt(Instant.now())
                .setAcceptedAt(Instant.now())
                .setPriority(Priority.LIVE)
                .build();
        producer.send(
            new ProducerRecord<>("crash-requests", type, serde.serialize("crash-requests", r)));
      }
    }
  }

  private Process startWorker(
      EmbeddedKafkaBroker broker, RegistryServer registry, int n, Map<String, String> extra)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Djava.awt.headless=true",
                "-cp",
                System.getProperty("java.class.path"),
                Docstream.class.getName(),
                "worker"));
    Map<String, String> cfg = new HashMap<>();
    cfg.put(WorkerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    cfg.put(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, registry.url());
    cfg.put(
        WorkerConfig.WORKER_ID_CONFIG,
        "crash-worker"); // stable id: a restart fences its predecessor
    cfg.put(WorkerConfig.GROUP_ID_CONFIG, "crash-workers");
    cfg.put(WorkerConfig.BASE_MODEL_DIR_CONFIG, dir.resolve("base").toString());
    cfg.put(WorkerConfig.ADAPTER_DIR_CONFIG, dir.resolve("adapters").toString());
    cfg.put(WorkerConfig.ADAPTER_SOURCE_CONFIG, "directory");
    cfg.put(WorkerConfig.REPLAY_TOPIC_CONFIG, "");
    cfg.put(WorkerConfig.BATCH_SIZE_CONFIG, "16");
    cfg.put(WorkerConfig.POLL_RECORDS_CONFIG, "64");
    cfg.put(WorkerConfig.INPUT_TOPIC_CONFIG, "crash-requests");
    cfg.put(WorkerConfig.RESULTS_TOPIC_CONFIG, "crash-results");
    cfg.put(WorkerConfig.DLQ_TOPIC_CONFIG, "crash-dlq");
    cfg.putAll(extra);
    cfg.forEach((k, v) -> cmd.add(k + "=" + v));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("worker-" + n + ".log").toFile())
        .start();
  }

  /** Starts counting committed results on a daemon thread; {@link #stopCounter} ends it. */
  private AtomicInteger startCounter(EmbeddedKafkaBroker broker) {
    AtomicInteger committed = new AtomicInteger();
    counter =
        new Thread(() -> countCommitted(broker.bootstrapServers(), committed), "committed-counter");
    counter.setDaemon(true);
    counter.start();
    return committed;
  }

  private void stopCounter() throws InterruptedException {
    if (counter != null) {
      counter.interrupt(); // its consumer would go on retrying a broker that is gone
      counter.join(10_000);
    }
  }

  /** The job ids of the committed results (read_committed), once {@code expected} are there. */
  private static List<String> resultIds(EmbeddedKafkaBroker broker, int expected, Duration within) {
    return TopicReader.readCommitted(
            broker.bootstrapServers(),
            "crash-results",
            new ByteArrayDeserializer(),
            expected,
            within,
            Duration.ofSeconds(5))
        .stream()
        .map(r -> r.key())
        .toList();
  }

  /** Counts committed results as they appear (read_committed), for timing the kills. */
  private static void countCommitted(String bootstrap, AtomicInteger count) {
    Map<String, Object> cfg =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG,
            "crash-counter",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed");
    try (var consumer =
        new KafkaConsumer<>(cfg, new StringDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of("crash-results"));
      while (!Thread.currentThread().isInterrupted()) {
        count.addAndGet(consumer.poll(Duration.ofMillis(50)).count());
      }
    } catch (org.apache.kafka.common.errors.InterruptException e) {
      // stopCounter: the test is over
    }
  }
}
