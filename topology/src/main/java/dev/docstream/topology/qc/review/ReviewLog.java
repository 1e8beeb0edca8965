package dev.docstream.topology.qc.review;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcLease;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.Verdict;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The review queue kept in Kafka: the service's state is what {@code qc.review}, {@code qc.leases}
 * and {@code qc.verdicts} say, read from their beginning at start (so a restart loses no task,
 * lease or verdict), followed while it runs, and written through here.
 *
 * <p>One instance writes, under one transactional id: opening a second one fences the first, so two
 * services never hand the same task to two analysts. Each claim, skip and verdict is one
 * transaction, applied to the in-memory {@link ReviewQueue} once it is committed.
 */
public final class ReviewLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReviewLog.class);

  /** How a submitted verdict ended. */
  public enum Outcome {
    /** Written: this is the task's verdict. */
    ACCEPTED,
    /** The task already had a verdict (a double click, a retry): nothing written. */
    DUPLICATE,
    /** Another analyst holds the task's lease. */
    NOT_YOURS,
    /** No such task. */
    UNKNOWN
  }

  /** What {@link #submit} did, with the task's verdict when there is one. */
  public record Submitted(Outcome outcome, QcVerdict verdict) {}

  /** A task leased to an analyst, until {@code expiresAt}. */
  public record Claim(QcTask task, Instant expiresAt) {}

  private final ReviewQueue queue;
  private KafkaProducer<String, byte[]> producer;
  private final Map<String, Object> producerConfig;
  private final ReviewFollower follower;
  private final AvroSerde<QcLease> leases;
  private final AvroSerde<QcVerdict> verdicts;
  private final Duration leaseTime;
  private final Clock clock;

  private ReviewLog(
      ReviewQueue queue,
      KafkaProducer<String, byte[]> producer,
      Map<String, Object> producerConfig,
      ReviewFollower follower,
      SchemaRegistry registry,
      Duration leaseTime,
      Clock clock) {
    this.queue = queue;
    this.producer = producer;
    this.producerConfig = producerConfig;
    this.follower = follower;
    this.leases = Topics.QC_LEASES.valueSerde(registry);
    this.verdicts = Topics.QC_VERDICTS.valueSerde(registry);
    this.leaseTime = leaseTime;
    this.clock = clock;
  }

  /**
   * Fences any other writer, reads the three topics to their end, and follows them.
   *
   * @param kafka client settings (bootstrap.servers, security)
   * @param transactionalId the writer's id: every instance of one review service uses the same
   */
  public static ReviewLog open(
      Map<String, Object> kafka,
      SchemaRegistry registry,
      String transactionalId,
      Duration leaseTime,
      Clock clock,
      Duration startTimeout) {
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, startTimeout.toMillis());
    KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    ReviewQueue queue = new ReviewQueue();
    ReviewFollower follower;
    try {
      producer.initTransactions(); // fences an older instance before we read
      follower = ReviewFollower.start(kafka, registry, queue, startTimeout);
    } catch (KafkaException | IllegalStateException e) {
      producer.close(Duration.ZERO);
      throw e;
    }
    return new ReviewLog(queue, producer, p, follower, registry, leaseTime, clock);
  }

  /**
   * The review topics as they are now, read once without writing anything (so without fencing the
   * running service): for exports and reports.
   */
  public static ReviewQueue snapshot(
      Map<String, Object> kafka, SchemaRegistry registry, Duration timeout) {
    return ReviewFollower.readOnce(kafka, registry, timeout);
  }

  /** The state (read-only use: queues, figures). */
  public ReviewQueue queue() {
    return queue;
  }

  /**
   * Leases the next task of a queue to {@code analyst}: the one they already hold, else the open
   * one of lowest confidence not in {@code skipped}.
   */
  public synchronized Optional<Claim> claim(
      String documentType, String analyst, Set<String> skipped) {
    Instant now = clock.instant();
    Optional<QcTask> next = queue.next(documentType, analyst, now, skipped);
    if (next.isEmpty()) {
      return Optional.empty();
    }
    QcTask task = next.get();
    Optional<ReviewQueue.Lease> held = queue.liveLease(task.getJobId(), now);
    if (held.isPresent()) {
      return Optional.of(new Claim(task, held.get().expiresAt()));
    }
    QcLease lease =
        QcLease.newBuilder()
            .setJobId(task.getJobId())
            .setAnalystId(analyst)
            .setLeasedAt(now)
            .setExpiresAt(now.plus(leaseTime))
            .build();
    write(
        Topics.QC_LEASES.name(), task.getJobId(), leases.serialize(Topics.QC_LEASES.name(), lease));
    queue.lease(lease);
    return Optional.of(new Claim(task, lease.getExpiresAt()));
  }

  /** The task if {@code analyst} holds its live lease. */
  public synchronized Optional<Claim> leasedTo(String jobId, String analyst) {
    Instant now = clock.instant();
    return queue
        .liveLease(jobId, now)
        .filter(l -> l.analyst().equals(analyst))
        .flatMap(l -> queue.get(jobId).map(t -> new Claim(t, l.expiresAt())));
  }

  /** Releases {@code analyst}'s lease on a task; false when they hold none. */
  public synchronized boolean skip(String jobId, String analyst) {
    Instant now = clock.instant();
    if (queue.liveLease(jobId, now).filter(l -> l.analyst().equals(analyst)).isEmpty()) {
      return false;
    }
    QcLease release =
        QcLease.newBuilder()
            .setJobId(jobId)
            .setAnalystId(null)
            .setLeasedAt(now)
            .setExpiresAt(now)
            .build();
    write(Topics.QC_LEASES.name(), jobId, leases.serialize(Topics.QC_LEASES.name(), release));
    queue.lease(release);
    return true;
  }

  /**
   * Records {@code analyst}'s verdict on a task, once. Corrections that repeat the predicted value
   * are dropped; CORRECT with real corrections becomes CORRECTED and CORRECTED without any becomes
   * CORRECT, so the verdict always says what the corrections show.
   *
   * @param corrections field -> corrected value (null or empty: the field is not on the document)
   * @throws IllegalArgumentException a correction names a field the task does not have
   */
  public synchronized Submitted submit(
      String jobId, String analyst, Verdict verdict, Map<DocumentField, String> corrections) {
    Optional<QcTask> task = queue.get(jobId);
    if (task.isEmpty()) {
      return new Submitted(Outcome.UNKNOWN, null);
    }
    Optional<QcVerdict> decided = queue.verdictOf(jobId);
    if (decided.isPresent()) {
      return new Submitted(Outcome.DUPLICATE, decided.get());
    }
    Instant now = clock.instant();
    Optional<ReviewQueue.Lease> lease = queue.liveLease(jobId, now);
    if (lease.isPresent() && !lease.get().analyst().equals(analyst)) {
      return new Submitted(Outcome.NOT_YOURS, null);
    }
    List<ExtractedField> changed = new ArrayList<>();
    if (verdict != Verdict.UNREADABLE) {
      Map<DocumentField, ExtractedField> predicted = new HashMap<>();
      task.get().getFields().forEach(f -> predicted.put(f.getField(), f));
      for (Map.Entry<DocumentField, String> c : corrections.entrySet()) {
        ExtractedField p = predicted.get(c.getKey());
        if (p == null) {
          throw new IllegalArgumentException(
              "task " + jobId + " has no field " + c.getKey() + " to correct");
        }
        String value = c.getValue() == null || c.getValue().isBlank() ? null : c.getValue().trim();
        if (!Objects.equals(value, p.getValue())) {
          changed.add(
              ExtractedField.newBuilder()
                  .setField(c.getKey())
                  .setValue(value)
                  .setConfidence(1)
                  .build());
        }
      }
    }
    Verdict kind =
        verdict == Verdict.UNREADABLE
            ? Verdict.UNREADABLE
            : changed.isEmpty() ? Verdict.CORRECT : Verdict.CORRECTED;
    QcVerdict v =
        QcVerdict.newBuilder()
            .setJobId(jobId)
            .setAnalystId(analyst)
            .setVerdict(kind)
            .setCorrections(changed)
            .setDecidedAt(now)
            .build();
    write(Topics.QC_VERDICTS.name(), jobId, verdicts.serialize(Topics.QC_VERDICTS.name(), v));
    queue.verdict(v);
    LOG.debug("verdict {} on job {} by {}", kind, jobId, analyst);
    return new Submitted(Outcome.ACCEPTED, v);
  }

  /**
   * One record in one transaction. A producer in an error state that an abort does not clear (the
   * broker answered InvalidTxnState, say) is replaced by a new one under the same transactional id
   * and the write tried once more: nothing was applied yet, so a retry is safe.
   */
  private void write(String topic, String key, byte[] value) {
    try {
      writeOnce(topic, key, value);
    } catch (ProducerFencedException e) {
      throw fenced(e);
    } catch (KafkaException e) {
      LOG.warn("review write failed ({}); replacing the producer and retrying once", e.toString());
      producer.close(Duration.ZERO);
      producer =
          new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
      producer.initTransactions();
      try {
        writeOnce(topic, key, value);
      } catch (ProducerFencedException again) {
        throw fenced(again);
      }
    }
  }

  private void writeOnce(String topic, String key, byte[] value) {
    try {
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, key, value));
      producer.commitTransaction();
    } catch (ProducerFencedException e) {
      throw e;
    } catch (KafkaException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException abortFailed) {
        e.addSuppressed(abortFailed);
      }
      throw e;
    }
  }

  private static IllegalStateException fenced(ProducerFencedException e) {
    return new IllegalStateException(
        "another review service took over this review queue (fenced); stop this one", e);
  }

  @Override
  public void close() {
    follower.close();
    producer.close(Duration.ofSeconds(5));
  }
}
