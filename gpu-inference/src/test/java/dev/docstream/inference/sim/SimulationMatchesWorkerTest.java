package dev.docstream.inference.sim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.inference.TinyModels;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.worker.AdapterModeKeys;
import dev.docstream.inference.worker.InferenceWorker;
import dev.docstream.inference.worker.KafkaClients;
import dev.docstream.inference.worker.SchedulingKeys;
import dev.docstream.inference.worker.WorkerConfig;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The simulation's worker is the real one's scheduling: on the same arrival sequence (a backlog of
 * Zipf traffic on one partition, delivered in one poll so that the batches are known), the real
 * worker (model, adapters, engine, poll loop on Kafka's mock clients) and {@code Simulation} make
 * the same number of adapter swaps.
 */
class SimulationMatchesWorkerTest {
  private static final String SCOPE = "simulation-matches-worker";
  private static final int TYPES = 12;
  private static final int JOBS = 300;

  @TempDir Path dir;
  private InferenceWorker worker;
  private Thread thread;

  @AfterEach
  void stop() throws InterruptedException {
    if (worker != null) {
      worker.stop();
      thread.join(10_000);
      worker.close();
    }
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  @ParameterizedTest
  @EnumSource(
      value = Simulation.Policy.class,
      names = {"MERGED", "HYBRID"}) // the engine's modes; it has no unmerged-only one
  void shouldMakeTheSwapsTheRealWorkerMakesOnTheSameArrivals(Simulation.Policy policy)
      throws Exception {
    String sha = TinyModels.saveRandomBase(dir.resolve("base"), 11);
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      for (int t = 0; t < TYPES; t++) {
        TinyModels.randomAdapter(e.block(), Arrivals.typeName(t), sha, 2, t)
            .write(dir.resolve("adapters").resolve(Arrivals.typeName(t)));
      }
    }
    List<Arrivals.Job> jobs =
        Arrivals.generate(TYPES, 1.1, JOBS, Double.POSITIVE_INFINITY, 1, 0, 1, 5);
    Simulation.Result simulated =
        Simulation.run(jobs, 1, 1, new Simulation.Settings(64, 8, 100, policy, 4, 0), COSTS);

    byte[] png = png();
    var serde =
        Topics.EXTRACTION_REQUESTS.valueSerde(SchemaRegistries.forUrl("mock://" + SCOPE, null));
    TopicPartition tp = new TopicPartition("requests", 0);
    MockConsumer<String, byte[]> consumer =
        new MockConsumer<>("earliest") {
          private boolean delivered;

          @Override
          public synchronized ConsumerRecords<String, byte[]> poll(Duration timeout) {
            if (!delivered && assignment().contains(tp)) {
              delivered = true; // the whole backlog in the first poll, as the simulation has it
              for (int i = 0; i < jobs.size(); i++) {
                ExtractionRequest r =
                    ExtractionRequest.newBuilder(jobs.get(i).request())
                        .setImage(ByteBuffer.wrap(png))
                        .build();
                addRecord(
                    new ConsumerRecord<>(
                        tp.topic(),
                        0,
                        i,
                        jobs.get(i).key(),
                        serde.serializer().serialize(tp.topic(), r)));
              }
            }
            return super.poll(timeout);
          }
        };
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(tp));
          consumer.updateBeginningOffsets(Map.of(tp, 0L));
        });
    Map<String, Object> props = new HashMap<>();
    props.put(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    props.put(WorkerConfig.WORKER_ID_CONFIG, "sim-check");
    props.put(WorkerConfig.BASE_MODEL_DIR_CONFIG, dir.resolve("base").toString());
    props.put(WorkerConfig.ADAPTER_DIR_CONFIG, dir.resolve("adapters").toString());
    props.put(WorkerConfig.ADAPTER_SOURCE_CONFIG, "directory");
    props.put(WorkerConfig.REPLAY_TOPIC_CONFIG, "");
    props.put(WorkerConfig.INPUT_TOPIC_CONFIG, tp.topic());
    props.put(WorkerConfig.POLL_TIMEOUT_MS_CONFIG, "5");
    props.put(WorkerConfig.POLL_RECORDS_CONFIG, "64");
    props.put(WorkerConfig.BATCH_SIZE_CONFIG, "8");
    props.put(WorkerConfig.BUFFER_RECORDS_CONFIG, "1024");
    props.put(AdapterModeKeys.ADAPTER_MODE_CONFIG, policy.name());
    props.put(AdapterModeKeys.HYBRID_MIN_GROUP_CONFIG, "4");
    // No waiting for micro-batches to fill: what runs does not depend on the wall clock.
    props.put(SchedulingKeys.MAX_BATCH_DELAY_MS_CONFIG, "0");
    worker =
        InferenceWorker.create(
            new WorkerConfig(props),
            new KafkaClients() {
              @Override
              public Consumer<String, byte[]> consumer(Map<String, Object> config) {
                return consumer;
              }

              @Override
              public Producer<String, byte[]> producer(Map<String, Object> config) {
                return new MockProducer<>(
                    true, null, new StringSerializer(), new ByteArraySerializer());
              }
            });
    thread = new Thread(worker, "worker-under-test");
    thread.start();
    await().atMost(Duration.ofSeconds(60)).until(() -> worker.committedResults() == JOBS);

    assertTrue(simulated.swaps() > TYPES / 2, "the arrivals must make many swaps: " + simulated);
    assertEquals(simulated.jobs(), worker.committedResults());
    assertEquals(worker.engine().swaps(), simulated.swaps(), "swaps: real worker vs simulation");
  }

  private static final Costs COSTS = new Costs(1, 8, 1, 0, 1.2);

  private static byte[] png() throws Exception {
    BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_BYTE_GRAY);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }
}
