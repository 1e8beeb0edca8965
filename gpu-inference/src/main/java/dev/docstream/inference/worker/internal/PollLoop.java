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
 * The worker's polling thread: owns the consumer. It polls all the time, queues what it polled per
 * adapter in an {@link AdapterScheduler} (live) or a {@link RecordBuffer} (the replay lane), and
 * hands the next batch to the inference thread when that one is free: full micro-batches formed
 * across polls, the merged adapter first, none waiting past the max batch delay. One batch is in
 * flight at a time; records of a partition complete out of order, and the {@link OffsetLedger}
 * gives each transaction the offsets to commit (the lowest not done, the done ones beyond it in the
 * metadata), so a restart or a rebalance redoes nothing and loses nothing. Backpressure: above the
 * buffer's high-water mark it pauses its partitions and goes on polling, so the group never sees it
 * as stuck, and resumes them at half.
 *
 * <p>A rebalance (inside poll) waits for the batch in flight to commit before partitions move, and
 * forgets queued records of the partitions that leave; a partition that arrives starts from its
 * committed offset and metadata. A failed batch: a fatal error stops the loop; a Kafka error
 * rewinds the batch's partitions to their committed offsets and metadata (not to the batch start: a
 * commit that went through unseen must not be redone) and retries with backoff; any other error
 * stops it.
 *
 * <p>Thread: the one that calls {@link #run()}; {@link #stop()} from any thread.
 */
public final class PollLoop {
  private static final Logger LOG = LoggerFactory.getLogger(PollLoop.class);

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
    /**
     * @param offsets the offsets to commit with the batch's results, asked for in the transaction
     */
    void processAndCommit(
        List<ConsumerRecord<String, byte[]>> batch,
        Supplier<ConsumerGroupMetadata> group,
        Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets);
  }

  private final PollSettings settings;
  private final Consumer<String, byte[]> consumer;
  private final ExecutorService inference;
  private final Committer committer;
  private final Observer observer;
  private final AdapterScheduler<ConsumerRecord<String, byte[]>> buffer;
  private final RecordBuffer<String, byte[]> replayBuffer = new RecordBuffer<>();
  private final OffsetLedger ledger = new OffsetLedger();
  private final Supplier<String> merged;
  private final FlowControl flow;

  /** No replay batch starts before this (System.nanoTime): replay's share of the thread's time. */
  private long replayNotBefore;

  private volatile boolean running = true;

  /**
   * The generation offsets are committed under: refreshed by this thread, read by the inference
   * thread.
   */
  private volatile ConsumerGroupMetadata group;

  private InFlight inFlight;
  private int failures;

  private record InFlight(
      List<ConsumerRecord<String, byte[]>> records, Future<?> done, boolean replay, long started) {}

  public PollLoop(
      PollSettings settings,
      Consumer<String, byte[]> consumer,
      ExecutorService inference,
      Committer committer,
      Observer observer) {
    this(settings, consumer, inference, committer, observer, () -> null);
  }

  /**
   * @param merged the document type whose adapter is merged now (or null): its queue goes first
   */
  public PollLoop(
      PollSettings settings,
      Consumer<String, byte[]> consumer,
      ExecutorService inference,
      Committer committer,
      Observer observer,
      Supplier<String> merged) {
    this.settings = settings;
    this.consumer = consumer;
    this.inference = inference;
    this.committer = committer;
    this.observer = observer;
    this.merged = merged;
    this.flow = new FlowControl(settings, consumer, observer);
    this.buffer = new AdapterScheduler<>(settings.microBatch(), settings.maxBatchDelay().toNanos());
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
            consumer.poll(inFlight == null ? idleTimeout() : busy);
        group = consumer.groupMetadata();
        accept(records);
        finish(false);
        if (inFlight == null && running) {
          startBatch();
        }
        flow.apply(buffer.size(), replayBuffer.size());
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

  /** Queues a poll's records, skipping those a commit's metadata says are done. */
  private void accept(ConsumerRecords<String, byte[]> records) {
    long now = System.nanoTime();
    for (ConsumerRecord<String, byte[]> r : records) {
      if (!ledger.polled(new TopicPartition(r.topic(), r.partition()), r.offset())) {
        continue;
      }
      if (r.topic().equals(settings.replayTopic())) {
        replayBuffer.add(r);
      } else {
        buffer.add(adapterOf(r), r, now);
      }
    }
  }

  /** The queue of a record: its key (the document type) up to a hot type's shard suffix. */
  static String adapterOf(ConsumerRecord<String, byte[]> r) {
    String key = r.key() == null ? "" : r.key();
    int shard = key.indexOf('#');
    return shard < 0 ? key : key.substring(0, shard);
  }

  /** How long to poll while the inference thread is idle: until a live queue may run. */
  private Duration idleTimeout() {
    long wait = buffer.nanosUntilReady(System.nanoTime());
    if (wait < 0) {
      return settings.pollTimeout();
    }
    return Duration.ofNanos(Math.max(1_000_000, Math.min(wait, settings.pollTimeout().toNanos())));
  }

  /**
   * Hands the next batch to the inference thread: live records first, as the scheduler picks them;
   * replay records only when no live record waits, in batches of at most {@code
   * replayBatchRecords}, within replay's share of the thread's time.
   */
  private void startBatch() {
    boolean replay = buffer.isEmpty();
    if (replay && (replayBuffer.isEmpty() || System.nanoTime() < replayNotBefore)) {
      return;
    }
    List<ConsumerRecord<String, byte[]>> batch =
        replay
            ? replayBuffer.take(settings.replayBatchRecords())
            : buffer.next(
                settings.batchRecords(),
                merged.get(),
                System.nanoTime(),
                r -> ledger.withinSpan(new TopicPartition(r.topic(), r.partition()), r.offset()));
    if (batch.isEmpty()) {
      return; // the live queues wait for their micro-batches to fill
    }
    inFlight =
        new InFlight(
            batch,
            inference.submit(
                () -> {
                  committer.processAndCommit(batch, () -> group, () -> ledger.commitFor(batch));
                  ledger.completed(batch);
                }),
            replay,
            System.nanoTime());
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
      Set<TopicPartition> gone = new HashSet<>(partitions);
      buffer.removeIf(r -> gone.contains(new TopicPartition(r.topic(), r.partition())));
      replayBuffer.drop(partitions);
      ledger.revoke(partitions);
      observer.assigned(consumer.assignment().size() - partitions.size());
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions); // its commit fails: the new owner reads those records again
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      // Each starts from its committed offset; the done offsets beyond it are skipped.
      if (!partitions.isEmpty()) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            consumer.committed(new HashSet<>(partitions));
        partitions.forEach(tp -> ledger.assign(tp, committed.get(tp)));
      }
      flow.assigned(partitions);
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

  /**
   * Seeks each partition of a failed batch that this worker still owns back to its committed offset
   * (the ledger back to its committed state) and drops what was buffered for it. If the committed
   * offsets cannot be read, the error stops the worker rather than guess: a restarted worker starts
   * from them.
   */
  private void rewind(List<ConsumerRecord<String, byte[]>> records) {
    // Where each partition starts again if nothing is committed: its lowest record not done.
    Map<TopicPartition, Long> first = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      long undone = ledger.commitPoint(tp);
      first.merge(tp, undone >= 0 ? Math.min(undone, r.offset()) : r.offset(), Math::min);
    }
    buffer.removeIf(r -> first.containsKey(new TopicPartition(r.topic(), r.partition())));
    replayBuffer.drop(first.keySet());
    ledger.revoke(first.keySet());
    Set<TopicPartition> owned = new HashSet<>(first.keySet());
    owned.retainAll(consumer.assignment());
    if (owned.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(owned);
    for (TopicPartition tp : owned) {
      OffsetAndMetadata c = committed.get(tp);
      consumer.seek(tp, c == null ? first.get(tp) : c.offset());
      ledger.assign(tp, c == null ? new OffsetAndMetadata(first.get(tp)) : c);
    }
  }

  /** Records polled and not yet handed over. */
  public int buffered() {
    return buffer.size() + replayBuffer.size();
  }
}
