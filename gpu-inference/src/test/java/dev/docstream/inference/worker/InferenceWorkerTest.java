package dev.docstream.inference.worker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The worker's failure paths on Kafka's mock clients: no broker, no model. The mock producer passes
 * the offsets of a committed transaction to the mock consumer, as the broker would, so "the
 * committed offsets" mean the same here as on a cluster.
 */
class InferenceWorkerTest {
  private static final String SCOPE = "inference-worker-test";
  private static final TopicPartition TP = new TopicPartition("in", 0);
  private static final int JOBS = 12;

  /** The offsets "the broker" holds: written by committed transactions, read by the consumer. */
  private final Map<TopicPartition, OffsetAndMetadata> brokerOffsets =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The partition's log: JOBS records; the mock consumer hands out one per poll from its position.
   */
  private final MockConsumer<String, byte[]> consumer =
      new MockConsumer<>("earliest") {
        private long next;

        @Override
        public synchronized org.apache.kafka.clients.consumer.ConsumerRecords<String, byte[]> poll(
            Duration timeout) {
          // The mock forgets records once polled, so a seek back could never read them again: serve
          // the log lazily from the position instead.
          if (assignment().contains(TP) && next < JOBS) {
            addRecord(
                new ConsumerRecord<>(TP.topic(), 0, next, "job-" + next, new byte[] {(byte) next}));
            next++;
          }
          return super.poll(timeout);
        }

        @Override
        public synchronized void seek(TopicPartition partition, long offset) {
          super.seek(partition, offset);
          next = offset;
        }

        @Override
        public synchronized Map<TopicPartition, OffsetAndMetadata> committed(
            java.util.Set<TopicPartition> partitions) {
          Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
          partitions.forEach(tp -> out.put(tp, brokerOffsets.get(tp)));
          return out;
        }
      };

  private final List<TestProducer> producers = new CopyOnWriteArrayList<>();

  /** What the next producer does on its n-th commit (1-based); absent = commits normally. */
  private final Map<Integer, Consumer<TestProducer>> onCommit = new HashMap<>();

  private final AtomicLong commits = new AtomicLong();
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

  /**
   * A mock producer whose commits reach the consumer's committed offsets, and that can fail on cue.
   */
  final class TestProducer extends MockProducer<String, byte[]> {
    private Map<TopicPartition, OffsetAndMetadata> pending = Map.of();
    boolean refuseAbort;
    int aborts;

    TestProducer() {
      super(true, null, new StringSerializer(), new ByteArraySerializer());
    }

    @Override
    public void sendOffsetsToTransaction(
        Map<TopicPartition, OffsetAndMetadata> offsets, ConsumerGroupMetadata group) {
      super.sendOffsetsToTransaction(offsets, group);
      pending = offsets;
    }

    @Override
    public void commitTransaction() {
      Consumer<TestProducer> fault = onCommit.remove((int) commits.incrementAndGet());
      if (fault != null) {
        fault.accept(this);
        return;
      }
      reallyCommit();
    }

    void reallyCommit() {
      super.commitTransaction();
      brokerOffsets.putAll(pending); // not through the consumer: the broker does not take its lock
    }

    @Override
    public void abortTransaction() {
      if (refuseAbort) {
        throw new IllegalStateException(
            "Cannot attempt operation `abortTransaction` because the previous call to "
                + "`commitTransaction` timed out and must be retried");
      }
      aborts++;
      super.abortTransaction();
    }
  }

  private InferenceWorker start(BatchWork work) {
    Map<String, Object> props = new HashMap<>();
    props.put(WorkerConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + SCOPE);
    props.put(WorkerConfig.WORKER_ID_CONFIG, "w1");
    props.put(WorkerConfig.INPUT_TOPIC_CONFIG, TP.topic());
    props.put(WorkerConfig.REPLAY_TOPIC_CONFIG, "");
    props.put(WorkerConfig.POLL_TIMEOUT_MS_CONFIG, "5");
    props.put(WorkerConfig.BATCH_SIZE_CONFIG, "1");
    props.put(WorkerConfig.POLL_RECORDS_CONFIG, "4");
    props.put(WorkerConfig.BUFFER_RECORDS_CONFIG, "64");
    KafkaClients clients =
        new KafkaClients() {
          @Override
          public org.apache.kafka.clients.consumer.Consumer<String, byte[]> consumer(
              Map<String, Object> config) {
            return consumer;
          }

          @Override
          public Producer<String, byte[]> producer(Map<String, Object> config) {
            TestProducer p = new TestProducer();
            producers.add(p);
            return p;
          }
        };
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(TP));
          consumer.updateBeginningOffsets(Map.of(TP, 0L));
        });
    worker =
        new InferenceWorker(
            new WorkerConfig(props), clients, work, null, new WorkerMetrics("w1"), List.of());
    thread = new Thread(worker, "worker-under-test");
    thread.start();
    return worker;
  }

  /** Stand-in for the model: one OK result per record, named after its key. */
  private static BatchWork.Outcome results(List<ConsumerRecord<String, byte[]>> records) {
    List<ExtractionResult> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      out.add(
          ExtractionResult.newBuilder()
              .setJobId(r.key())
              .setTenantId("t")
              .setDocumentType("T")
              .setStatus(ResultStatus.OK)
              .setReason(null)
              .setFields(List.of())
              .setBaseModelId("base")
              .setSubmittedAt(Instant.EPOCH)
              .setCompletedAt(Instant.EPOCH)
              .setModelMs(0)
              .setBatchSize(1)
              .setWorkerId("w1")
              .setPriority(Priority.LIVE)
              .build());
    }
    return new BatchWork.Outcome(out, List.of());
  }

  /** Job ids of every committed result, over all producers, in commit order. */
  private List<String> committedJobs() {
    List<String> ids = new ArrayList<>();
    for (TestProducer p : producers) {
      p.history().stream().map(ProducerRecord::key).forEach(ids::add);
    }
    return ids;
  }

  private List<String> allJobs() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < JOBS; i++) {
      ids.add("job-" + i);
    }
    return ids;
  }

  @Test
  void shouldAbortAFailedCommitAndRetryFromTheCommittedOffsets() {
    onCommit.put(
        2,
        p -> {
          throw new KafkaException("the broker went away during commit");
        });
    start(InferenceWorkerTest::results);
    await().atMost(Duration.ofSeconds(20)).until(() -> committedJobs().size() >= JOBS);
    assertEquals(
        allJobs(),
        committedJobs(),
        "every job once, in order: the aborted batch was redone, nothing else");
    assertEquals(1, producers.get(0).aborts);
    assertEquals(1, producers.size(), "an abort that works keeps the producer");
    assertEquals(1, worker.metrics().transactionFailures());
    assertEquals(JOBS, brokerOffsets.get(TP).offset());
  }

  @Test
  void shouldReplaceTheProducerWhenTheAbortIsRefusedAndNotRedoACommitThatWentThrough() {
    onCommit.put(
        1,
        p -> {
          p.reallyCommit(); // the commit reached the broker ...
          p.refuseAbort = true;
          throw new TimeoutException(
              "... but its answer did not come back in time"); // outcome unknown
        });
    start(InferenceWorkerTest::results);
    await().atMost(Duration.ofSeconds(20)).until(() -> committedJobs().size() >= JOBS);
    assertEquals(2, producers.size(), "the producer whose abort was refused was replaced");
    assertTrue(producers.get(0).closed());
    assertEquals(
        allJobs(),
        committedJobs(),
        "rewound to the committed offsets, so the first batch is not redone");
  }

  @Test
  void shouldStopAFencedWorkerWithoutReplacingItsProducer() throws InterruptedException {
    onCommit.put(
        2,
        p -> {
          throw new ProducerFencedException(
              "another worker took over transactional id docstream-worker-w1");
        });
    start(InferenceWorkerTest::results);
    thread.join(20_000);
    assertInstanceOf(ProducerFencedException.class, worker.failure());
    assertEquals(1, producers.size(), "a new producer would fence the worker that owns the id now");
    assertEquals(0, producers.get(0).aborts);
    assertEquals(List.of("job-0"), committedJobs(), "only the first batch (one record) committed");
  }

  @Test
  void shouldLetARebalanceWaitForTheBatchInFlight() throws InterruptedException {
    CountDownLatch working = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    start(
        records -> {
          working.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return results(records);
        });
    assertTrue(working.await(10, TimeUnit.SECONDS));
    AtomicLong committedWhenRevoked = new AtomicLong(-1);
    CountDownLatch revoked = new CountDownLatch(1);
    consumer.schedulePollTask(
        () -> {
          Thread releaser =
              new Thread(
                  () -> {
                    try {
                      Thread.sleep(300); // the batch is still running when the rebalance starts
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    release.countDown();
                  });
          releaser.start();
          consumer.rebalance(
              List.of()); // revokes the partition: onPartitionsRevoked must wait for the batch
          committedWhenRevoked.set(producers.get(0).commitCount());
          revoked.countDown();
        });
    assertTrue(revoked.await(10, TimeUnit.SECONDS));
    assertTrue(committedWhenRevoked.get() >= 1, "the batch in flight committed before the move");
    Thread.sleep(300);
    assertEquals(
        producers.get(0).commitCount(),
        committedWhenRevoked.get(),
        "every batch in flight (the one running, the one decoded) committed before its partition"
            + " moved; none after");
    assertEquals(0, worker.assignedPartitions());
  }
}
