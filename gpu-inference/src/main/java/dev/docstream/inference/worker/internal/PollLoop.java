package dev.docstream.inference.worker.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's polling thread: owns the consumer. It polls all the time, keeps what it polled in a
 * {@link RecordBuffer}, and hands the next batch to the inference thread when that one is free (one
 * batch in flight, so offsets are committed in order). Backpressure: above the buffer's high-water
 * mark it pauses its partitions and goes on polling, so the group never sees it as stuck, and
 * resumes them at half.
 *
 * <p>A rebalance (inside poll) waits for the batch in flight to commit before partitions move, and
 * forgets buffered records of the partitions that leave. A failed batch: a fatal error stops the
 * loop; a Kafka error rewinds the batch's partitions to their committed offsets (not to the batch
 * start: a commit that went through unseen must not be redone) and retries with backoff; any other
 * error stops it.
 *
 * <p>Thread: the one that calls {@link #run()}; {@link #stop()} from any thread.
 */
public final class PollLoop {
  private static final Logger LOG = LoggerFactory.getLogger(PollLoop.class);

  /**
   * What the loop needs to know.
   *
   * @param replayTopic the replay lane, or null for none
   * @param replayBatchRecords the largest replay batch: a live job arriving meanwhile waits at most
   *     one of them
   * @param replayShare the most of the inference thread's time replay batches may take, in (0, 1]
   */
  public record Settings(
      String workerId,
      String topic,
      Duration pollTimeout,
      int batchRecords,
      int bufferRecords,
      int maxFailures,
      String replayTopic,
      int replayBatchRecords,
      double replayShare) {
    /** Without a replay lane. */
    public Settings(
        String workerId,
        String topic,
        Duration pollTimeout,
        int batchRecords,
        int bufferRecords,
        int maxFailures) {
      this(workerId, topic, pollTimeout, batchRecords, bufferRecords, maxFailures, null, 0, 1);
    }
  }

  /** What the loop tells its owner. */
  public interface Observer {
    default void transactionFailed() {}

    default void paused(boolean on) {}

    default void inFlight(int records) {}

    default void assigned(int partitions) {}
  }

  /**
   * Runs one batch on the inference thread: process it and commit it under the group generation the
   * supplier gives at commit time (a rebalance that waits for the batch has a newer one).
   */
  @FunctionalInterface
  public interface Committer {
    void processAndCommit(
        List<ConsumerRecord<String, byte[]>> batch, Supplier<ConsumerGroupMetadata> group);
  }

  private final Settings settings;
  private final Consumer<String, byte[]> consumer;
  private final ExecutorService inference;
  private final Committer committer;
  private final Observer observer;
  private final RecordBuffer<String, byte[]> buffer = new RecordBuffer<>();
  private final RecordBuffer<String, byte[]> replayBuffer = new RecordBuffer<>();

  /** No replay batch starts before this (System.nanoTime): replay's share of the thread's time. */
  private long replayNotBefore;

  private volatile boolean running = true;

  /**
   * The generation offsets are committed under: refreshed by this thread, read by the inference
   * thread.
   */
  private volatile ConsumerGroupMetadata group;

  private InFlight inFlight;
  private boolean paused;
  private int failures;

  private record InFlight(
      List<ConsumerRecord<String, byte[]>> records, Future<?> done, boolean replay, long started) {}

  public PollLoop(
      Settings settings,
      Consumer<String, byte[]> consumer,
      ExecutorService inference,
      Committer committer,
      Observer observer) {
    this.settings = settings;
    this.consumer = consumer;
    this.inference = inference;
    this.committer = committer;
    this.observer = observer;
  }

  /** Polls until {@link #stop()}; throws the error that stopped it otherwise. */
  public void run() {
    Duration busy =
        Duration.ofMillis(
            Math.min(10, settings.pollTimeout().toMillis())); // check the batch in flight often
    consumer.subscribe(
        settings.replayTopic() == null
            ? List.of(settings.topic())
            : List.of(settings.topic(), settings.replayTopic()),
        new Rebalance());
    try {
      while (running) {
        ConsumerRecords<String, byte[]> records =
            consumer.poll(inFlight == null ? settings.pollTimeout() : busy);
        group = consumer.groupMetadata();
        buffer.add(records, settings.replayTopic() == null ? null : settings.topic());
        if (settings.replayTopic() != null) {
          replayBuffer.add(records, settings.replayTopic());
        }
        finish(false);
        if (inFlight == null && running) {
          startBatch();
        }
        applyBackpressure();
        observer.inFlight(
            buffer.size()
                + replayBuffer.size()
                + (inFlight == null ? 0 : inFlight.records().size()));
      }
    } catch (org.apache.kafka.common.errors.WakeupException e) {
      if (running) {
        throw e;
      }
    } finally {
      finishQuietly();
      observer.inFlight(0);
    }
  }

  /**
   * Hands the next batch to the inference thread: live records first; replay records only when no
   * live record waits, in batches of at most {@code replayBatchRecords}, within replay's share of
   * the thread's time.
   */
  private void startBatch() {
    boolean replay = buffer.isEmpty();
    if (replay && (replayBuffer.isEmpty() || System.nanoTime() < replayNotBefore)) {
      return;
    }
    List<ConsumerRecord<String, byte[]>> batch =
        replay
            ? replayBuffer.take(settings.replayBatchRecords())
            : buffer.take(settings.batchRecords());
    inFlight =
        new InFlight(
            batch,
            inference.submit(() -> committer.processAndCommit(batch, () -> group)),
            replay,
            System.nanoTime());
  }

  /**
   * Whether the replay lane may fetch: no live record waits in the buffer or on the broker (every
   * owned live partition's lag is known and 0) and the buffer has room.
   */
  private boolean replayOpen() {
    if (!buffer.isEmpty() || replayBuffer.size() >= settings.replayBatchRecords()) {
      return false;
    }
    for (TopicPartition tp : consumer.assignment()) {
      if (tp.topic().equals(settings.topic())) {
        java.util.OptionalLong lag = consumer.currentLag(tp);
        if (lag.isEmpty() || lag.getAsLong() > 0) {
          return false;
        }
      }
    }
    return true;
  }

  /** Asks the loop to stop; safe from any thread. */
  public void stop() {
    running = false;
    consumer.wakeup();
  }

  /** Partitions move only after the batch in flight has committed (or failed and rewound). */
  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      group = consumer.groupMetadata();
      finish(true);
      buffer.drop(partitions);
      replayBuffer.drop(partitions);
      observer.assigned(consumer.assignment().size() - partitions.size());
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions); // its commit fails: the new owner reads those records again
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // pause() state does not survive a rebalance: re-apply it to what was assigned
      if (paused) {
        consumer.pause(partitions);
      } else if (settings.replayTopic() != null) {
        consumer.pause(
            partitions.stream().filter(tp -> tp.topic().equals(settings.replayTopic())).toList());
      }
      observer.assigned(consumer.assignment().size());
    }
  }

  /** Ends the batch in flight if it is done (or waits for it), handling a failure here. */
  private void finish(boolean wait) {
    if (inFlight == null || (!wait && !inFlight.done().isDone())) {
      return;
    }
    InFlight batch = inFlight;
    inFlight = null;
    try {
      batch.done().get();
      failures = 0;
      if (batch.replay() && settings.replayShare() < 1) {
        long took = System.nanoTime() - batch.started();
        replayNotBefore =
            System.nanoTime()
                + (long) (took * (1 - settings.replayShare()) / settings.replayShare());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rewind(batch.records());
    } catch (ExecutionException e) {
      onFailure(batch.records(), e.getCause());
    }
  }

  private void onFailure(List<ConsumerRecord<String, byte[]>> records, Throwable cause) {
    if (FailurePolicy.isFatal(cause)) {
      LOG.error(
          "worker {} is fenced or unauthorized; stopping: {}",
          settings.workerId(),
          cause.toString());
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    if (!(cause instanceof KafkaException kafka)) {
      LOG.error("worker {}: batch failed; stopping: {}", settings.workerId(), cause.toString());
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    observer.transactionFailed();
    if (++failures > settings.maxFailures()) {
      LOG.error(
          "worker {}: {} transactions failed in a row; stopping: {}",
          settings.workerId(),
          failures,
          kafka.toString());
      throw kafka;
    }
    LOG.warn(
        "worker {}: transaction failed ({}), aborted; retrying from the committed offsets",
        settings.workerId(),
        kafka.toString());
    rewind(records);
    Backoff.sleep(failures);
  }

  private void finishQuietly() {
    if (inFlight != null) {
      try {
        inFlight.done().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        LOG.warn(
            "worker {}: last batch failed while stopping: {}",
            settings.workerId(),
            e.getCause().toString());
      }
      inFlight = null;
    }
  }

  private void applyBackpressure() {
    if (!paused && buffer.size() >= settings.bufferRecords()) {
      consumer.pause(consumer.assignment());
      paused = true;
      observer.paused(true);
    } else if (paused && buffer.size() <= settings.bufferRecords() / 2) {
      consumer.resume(consumer.paused());
      paused = false;
      observer.paused(false);
    }
    if (!paused && settings.replayTopic() != null) {
      applyReplayLane();
    }
  }

  /** Pauses the replay lane's partitions unless it may fetch; resumes them when it may. */
  private void applyReplayLane() {
    boolean open = replayOpen();
    Set<TopicPartition> replay = new HashSet<>();
    for (TopicPartition tp : consumer.assignment()) {
      if (tp.topic().equals(settings.replayTopic())) {
        replay.add(tp);
      }
    }
    Set<TopicPartition> pausedNow = consumer.paused();
    if (open) {
      List<TopicPartition> resume = replay.stream().filter(pausedNow::contains).toList();
      if (!resume.isEmpty()) {
        consumer.resume(resume);
      }
    } else {
      List<TopicPartition> pause = replay.stream().filter(tp -> !pausedNow.contains(tp)).toList();
      if (!pause.isEmpty()) {
        consumer.pause(pause);
      }
    }
  }

  /**
   * Seeks each partition of a failed batch that this worker still owns back to its committed offset
   * and drops what was buffered for it. If the committed offsets cannot be read, the error stops
   * the worker rather than guess: a restarted worker starts from them.
   */
  private void rewind(List<ConsumerRecord<String, byte[]>> records) {
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      first.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
    }
    buffer.drop(first.keySet());
    replayBuffer.drop(first.keySet());
    Set<TopicPartition> owned = new HashSet<>(first.keySet());
    owned.retainAll(consumer.assignment());
    if (owned.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(owned);
    for (TopicPartition tp : owned) {
      OffsetAndMetadata c = committed.get(tp);
      consumer.seek(tp, c == null ? first.get(tp) : c.offset());
    }
  }

  /** Records polled and not yet handed over. */
  public int buffered() {
    return buffer.size() + replayBuffer.size();
  }
}
