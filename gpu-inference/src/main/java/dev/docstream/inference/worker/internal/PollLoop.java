package dev.docstream.inference.worker.internal;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's polling thread: owns the consumer. It polls all the time, queues what it polled per
 * adapter in an {@link AdapterScheduler} (live) or a {@link RecordBuffer} (the replay lane), and
 * hands the next batch to the inference thread when that one is free: full micro-batches formed
 * across polls, the merged adapter first, none waiting past the max batch delay. A batch is decoded
 * on the decode thread while the model runs the one before (two in flight; they commit in order);
 * records of a partition complete out of order, and the {@link OffsetLedger} gives each transaction
 * the offsets to commit (the lowest not done, the done ones beyond it in the metadata), so a
 * restart or a rebalance redoes nothing and loses nothing. Backpressure: above the buffer's
 * high-water mark it pauses its partitions and goes on polling, so the group never sees it as
 * stuck, and resumes them at half.
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
   * What the loop runs for each batch: {@link #prepare} off the model's thread (the decode thread:
   * decoding), then the returned {@link Commit} on the inference thread.
   */
  @FunctionalInterface
  public interface Committer {
    /** Readies a batch for the model (decodes it); runs on the decode thread. */
    Commit prepare(List<ConsumerRecord<String, byte[]>> batch);
  }

  /**
   * Runs one prepared batch on the inference thread: process it and commit it under the group
   * generation the supplier gives at commit time (a rebalance that waits for the batch has a newer
   * one), with the offsets the other supplier gives, asked for in the transaction.
   */
  @FunctionalInterface
  public interface Commit {
    void processAndCommit(
        Supplier<ConsumerGroupMetadata> group,
        Supplier<Map<TopicPartition, OffsetAndMetadata>> offsets);
  }

  private final PollSettings settings;
  private final Consumer<String, byte[]> consumer;
  private final ExecutorService inference;
  private final Executor decode;

  /** Batches in flight at most: one on the inference thread and one being decoded, or one. */
  private final int depth;

  private final Committer committer;
  private final Observer observer;
  private final AdapterScheduler<ConsumerRecord<String, byte[]>> buffer;
  private final RecordBuffer<String, byte[]> replayBuffer = new RecordBuffer<>();
  private final OffsetLedger ledger = new OffsetLedger();
  private final Supplier<String> merged;
  private final FlowControl flow;
  private final Recovery recovery;

  /** No replay batch starts before this (System.nanoTime): replay's share of the thread's time. */
  private long replayNotBefore;

  private volatile boolean running = true;

  /**
   * The generation offsets are committed under: refreshed by this thread, read by the inference
   * thread.
   */
  private volatile ConsumerGroupMetadata group;

  /** In dispatch order (they commit in this order: one inference thread). */
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();

  /**
   * Set by the inference thread when a batch fails: the batches after it in flight do not commit,
   * until the polling thread has rewound to the committed offsets (and clears it).
   */
  private volatile boolean halted;

  /** A batch not run because one before it failed; its records are read again. */
  private static final class SkippedBatchException extends RuntimeException {
    SkippedBatchException() {
      super("a batch before this one failed", null, false, false);
    }
  }

  /**
   * @param mergedAfter the document type merged after the batch ran, set by the inference thread
   *     before {@code done} completes
   */
  private record InFlight(
      List<ConsumerRecord<String, byte[]>> records,
      Future<?> done,
      boolean replay,
      long started,
      String[] mergedAfter) {}

  /** The type merged after the last batch finished here: the scheduler's merged adapter. */
  private String lastMerged;

  public PollLoop(
      PollSettings settings,
      Consumer<String, byte[]> consumer,
      ExecutorService inference,
      Committer committer,
      Observer observer) {
    this(settings, consumer, inference, inference, committer, observer, () -> null);
  }

  /**
   * @param decode where batches are prepared (decoded); another thread than {@code inference} lets
   *     the next batch be decoded while the model runs this one (two batches in flight)
   * @param merged the document type whose adapter is merged now (or null), asked on the inference
   *     thread after each batch: the scheduler runs its queue first
   */
  public PollLoop(
      PollSettings settings,
      Consumer<String, byte[]> consumer,
      ExecutorService inference,
      Executor decode,
      Committer committer,
      Observer observer,
      Supplier<String> merged) {
    this.settings = settings;
    this.consumer = consumer;
    this.inference = inference;
    this.decode = decode;
    this.depth = decode == inference ? 1 : 2;
    this.committer = committer;
    this.observer = observer;
    this.merged = merged;
    this.flow = new FlowControl(settings, consumer, observer);
    this.buffer = new AdapterScheduler<>(settings.microBatch(), settings.maxBatchDelay().toNanos());
    this.recovery = new Recovery(settings, consumer, observer, ledger, buffer, replayBuffer);
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
            consumer.poll(inFlight.isEmpty() ? idleTimeout() : busy);
        group = consumer.groupMetadata();
        accept(records);
        finish(false);
        fill();
        flow.apply(buffer.size(), replayBuffer.size());
        observer.inFlight(
            buffer.size()
                + replayBuffer.size()
                + inFlight.stream().mapToInt(b -> b.records().size()).sum());
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

  /** Starts batches while fewer than {@code depth} are in flight and one is ready. */
  private void fill() {
    while (running && inFlight.size() < depth && startBatch()) {
      // the next batch is decoded while the model runs this one
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
        buffer.add(adapterOf(r.key()), r, now);
      }
    }
  }

  /**
   * The queue of a record key: the document type, up to a hot type's shard suffix ({@code TYPE#k});
   * the simulation queues its jobs by the same rule.
   */
  public static String adapterOf(String recordKey) {
    String key = recordKey == null ? "" : recordKey;
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
  private boolean startBatch() {
    boolean replay = buffer.isEmpty();
    if (replay
        && (replayBuffer.isEmpty()
            || System.nanoTime() < replayNotBefore
            || inFlight.stream().anyMatch(InFlight::replay))) {
      return false;
    }
    List<ConsumerRecord<String, byte[]>> batch =
        replay
            ? replayBuffer.take(settings.replayBatchRecords())
            : buffer.next(
                settings.batchRecords(),
                lastMerged,
                System.nanoTime(),
                r -> ledger.withinSpan(new TopicPartition(r.topic(), r.partition()), r.offset()));
    if (batch.isEmpty()) {
      return false; // the live queues wait for their micro-batches to fill
    }
    String[] mergedAfter = new String[1];
    CompletableFuture<Void> done =
        CompletableFuture.supplyAsync(() -> committer.prepare(batch), decode)
            .thenAcceptAsync(
                commit -> {
                  if (halted) {
                    // A batch before it failed, maybe committed unseen: offsets computed now
                    // could move the committed offset back. It waits for the rewind instead.
                    throw new SkippedBatchException();
                  }
                  try {
                    commit.processAndCommit(() -> group, () -> ledger.commitFor(batch));
                  } catch (RuntimeException e) {
                    halted = true;
                    throw e;
                  }
                  ledger.completed(batch);
                  mergedAfter[0] = merged.get();
                },
                inference);
    inFlight.add(new InFlight(batch, done, replay, System.nanoTime(), mergedAfter));
    return true;
  }

  /** Asks the loop to stop; safe from any thread. */
  public void stop() {
    running = false;
    consumer.wakeup();
  }

  /** Partitions move only after the batches in flight have committed (or failed and rewound). */
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

  /**
   * Ends the batches in flight that are done (or waits for all), in order, handling a failure here:
   * the batches after a failed one are let finish first, so that the rewind sees their commits.
   */
  private void finish(boolean wait) {
    while (!inFlight.isEmpty() && (wait || inFlight.peek().done().isDone())) {
      InFlight batch = inFlight.poll();
      Throwable failed = Await.failure(batch.done());
      if (failed == null) {
        recovery.succeeded();
        lastMerged = batch.mergedAfter()[0];
        if (batch.replay() && settings.replayShare() < 1) {
          long took = System.nanoTime() - batch.started();
          replayNotBefore =
              System.nanoTime()
                  + (long) (took * (1 - settings.replayShare()) / settings.replayShare());
        }
        if (!wait && !halted) {
          fill(); // the next batch is chosen knowing what this one left merged
        }
        continue;
      }
      List<ConsumerRecord<String, byte[]>> undone = new ArrayList<>(batch.records());
      undone.addAll(drain());
      try {
        recovery.failed(undone, failed);
      } finally {
        halted = false; // rewound (or stopping): the next batches commit again
      }
    }
  }

  /** Waits for every batch still in flight; returns the records of those that failed. */
  private List<ConsumerRecord<String, byte[]>> drain() {
    List<ConsumerRecord<String, byte[]>> failed = new ArrayList<>();
    while (!inFlight.isEmpty()) {
      InFlight later = inFlight.poll();
      if (Await.failure(later.done()) != null) {
        failed.addAll(later.records());
      }
    }
    return failed;
  }

  private void finishQuietly() {
    while (!inFlight.isEmpty()) {
      Throwable failed = Await.failure(inFlight.poll().done());
      if (failed != null) {
        LOG.warn(
            "worker {}: a last batch failed while stopping: {}",
            settings.workerId(),
            failed.toString());
      }
    }
  }

  /** Records polled and not yet handed over. */
  public int buffered() {
    return buffer.size() + replayBuffer.size();
  }
}
