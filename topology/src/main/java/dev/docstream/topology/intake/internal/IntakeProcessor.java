package dev.docstream.topology.intake.internal;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.errors.DeadLetterReason;
import dev.docstream.schemas.errors.DeadLetters;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import dev.docstream.topology.images.ImageStore;
import dev.docstream.topology.intake.KeyShards;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes, validates and de-duplicates each job. Emits the bytes of an ExtractionRequest keyed by
 * document type to {@link #REQUESTS}, or of a DeadLetter keyed by job id to {@link #DEAD_LETTERS}.
 * Values leave serialised, so that their size is known here: a request that would not fit in a
 * record becomes a dead letter, and a dead letter that would not fit loses its original value,
 * instead of failing the producer (and the task, on every retry).
 *
 * <p>A bad record never throws: it becomes a dead letter and the records behind it carry on. Only a
 * registry outage throws, so that the job is retried rather than dead-lettered for a fault that is
 * not its own. Anything else that escapes is counted by {@link ProcessingAttempts}, and a record
 * that failed that many times is dead-lettered as PROCESSING_FAILED.
 */
public final class IntakeProcessor implements Processor<String, byte[], String, byte[]> {
  /** Child (sink) names. */
  public static final String REQUESTS = "requests";

  /** The sink of REPLAY requests: the replay lane, keyed by document type as the live one. */
  public static final String REPLAY_REQUESTS = "replay-requests";

  public static final String DEAD_LETTERS = "dead-letters";

  private static final Logger LOG = LoggerFactory.getLogger(IntakeProcessor.class);

  private final AvroSerde<VerificationJob> jobs;
  private final AvroSerde<ExtractionRequest> requests;
  private final AvroSerde<DeadLetter> deadLetters;
  private final Validation validator;
  private final String storeName;
  private final Duration window;
  private final int maxRecordBytes;
  private final ProcessingAttempts attempts;
  private final Sinks sinks;
  private final KeyShards shards;
  private final ImageStore images;
  private ProcessorContext<String, byte[]> context;
  private KeyValueStore<String, Long> seen;

  /** Checks one decoded job ({@link JobValidator} in production; tests may fail on purpose). */
  @FunctionalInterface
  public interface Validation {
    JobValidator.Outcome validate(VerificationJob job, Instant now);
  }

  /**
   * Where the processor forwards: its sinks' names.
   *
   * @param replayOnly every accepted job goes to {@code replayRequests}, whatever its priority
   */
  public record Sinks(
      String requests, String replayRequests, String deadLetters, boolean replayOnly) {
    /** The live input's sinks: LIVE jobs to the live lane, REPLAY jobs to the replay lane. */
    public static final Sinks LIVE = new Sinks(REQUESTS, REPLAY_REQUESTS, DEAD_LETTERS, false);
  }

  /**
   * What the processor needs besides the registry.
   *
   * @param images where accepted jobs' images are stored for QC review (the claim check); null
   *     stores none
   */
  public record Settings(
      Validation validator,
      String storeName,
      Duration dedupeWindow,
      int maxRecordBytes,
      ProcessingAttempts attempts,
      Sinks sinks,
      ImageStore images,
      KeyShards shards) {
    public Settings(
        Validation validator,
        String storeName,
        Duration dedupeWindow,
        int maxRecordBytes,
        ProcessingAttempts attempts) {
      this(
          validator,
          storeName,
          dedupeWindow,
          maxRecordBytes,
          attempts,
          Sinks.LIVE,
          null,
          KeyShards.none());
    }

    /** The same, storing accepted images in {@code store}. */
    public Settings withImages(ImageStore store) {
      return new Settings(
          validator, storeName, dedupeWindow, maxRecordBytes, attempts, sinks, store, shards);
    }

    /** The same, keying the hot types' requests over their shards. */
    public Settings withShards(KeyShards keys) {
      return new Settings(
          validator, storeName, dedupeWindow, maxRecordBytes, attempts, sinks, images, keys);
    }

    /** The same for another input: its own dedupe store and sinks. */
    public Settings forInput(String store, Sinks other) {
      return new Settings(
          validator, store, dedupeWindow, maxRecordBytes, attempts, other, images, shards);
    }
  }

  public IntakeProcessor(SchemaRegistry registry, Settings settings) {
    this.jobs = Topics.VERIFICATION_JOBS.valueSerde(registry);
    this.requests = Topics.EXTRACTION_REQUESTS.valueSerde(registry);
    this.deadLetters = Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry);
    this.validator = settings.validator();
    this.storeName = settings.storeName();
    this.window = settings.dedupeWindow();
    this.maxRecordBytes = settings.maxRecordBytes();
    this.attempts = settings.attempts();
    this.sinks = settings.sinks();
    this.images = settings.images();
    this.shards = settings.shards();
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.seen = context.getStateStore(storeName);
    Duration every = window.compareTo(Duration.ofMinutes(1)) < 0 ? window : Duration.ofMinutes(1);
    context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::forgetExpired);
  }

  /**
   * The dedupe key: job ids are the client's, so they are unique only within a tenant (one client
   * must not be able to block another's jobs by guessing their ids). Length-prefixed, so no pair of
   * tenant and job id can spell another pair's key.
   */
  public static String dedupeKey(String tenantId, String jobId) {
    return tenantId.length() + ":" + tenantId + "/" + jobId;
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata source = context.recordMetadata().orElseThrow();
    String at = ProcessingAttempts.key(source.topic(), source.partition(), source.offset());
    if (!attempts.start(at)) {
      LOG.warn(
          "record {} failed processing {} times; dead-lettered as {}",
          at,
          attempts.maxAttempts(),
          DeadLetterReason.PROCESSING_FAILED);
      deadLetter(
          record,
          source,
          null,
          DeadLetterReason.PROCESSING_FAILED,
          "processing this record failed repeatedly; it was set aside so the partition goes on",
          record.value());
      attempts.finish(at);
      return;
    }
    try {
      validate(record, source);
    } catch (WireFormatException e) {
      if (e.reason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
        attempts.finish(at); // not the record's fault: it must not count towards giving up on it
      }
      throw e; // fail the task: Kafka Streams retries from the last commit
    } catch (KafkaException e) {
      // Kafka Streams raises an earlier send's failure (a timeout, a migrated task) in a later
      // forward(): not this record's fault either.
      attempts.finish(at);
      throw e;
    }
    attempts.finish(at);
  }

  private void validate(Record<String, byte[]> record, RecordMetadata source) {
    long now = context.currentSystemTimeMs();
    if (record.value() == null) {
      deadLetter(
          record, source, record.key(), DeadLetterReason.UNDECODABLE, "record has no value", null);
      return;
    }
    VerificationJob job;
    try {
      job = jobs.deserialize(source.topic(), record.value());
    } catch (WireFormatException e) {
      if (e.reason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
        throw e;
      }
      String key = record.key() != null && JobValidator.validId(record.key()) ? record.key() : null;
      deadLetter(record, source, key, DeadLetterReason.UNDECODABLE, e.getMessage(), record.value());
      return;
    }
    String jobId = JobValidator.validId(job.getJobId()) ? job.getJobId() : null;
    JobValidator.Outcome outcome = validator.validate(job, Instant.ofEpochMilli(now));
    if (outcome.rejection() != null) {
      deadLetter(
          record,
          source,
          jobId,
          outcome.rejection().reason(),
          outcome.rejection().detail(),
          record.value());
      return;
    }
    String dedupe = dedupeKey(job.getTenantId(), job.getJobId());
    Long firstSeen = seen.get(dedupe);
    if (firstSeen != null && now - firstSeen < window.toMillis()) {
      // No original value: the first copy is already being processed, a second copy of the
      // personal data in the dead-letter topic serves nobody.
      deadLetter(
          record,
          source,
          jobId,
          DeadLetterReason.DUPLICATE_JOB,
          "job id already accepted for this tenant " + (now - firstSeen) + " ms ago",
          null);
      return;
    }
    byte[] request = requests.serialize(Topics.EXTRACTION_REQUESTS.name(), outcome.request());
    if (!DeadLetters.fits(job.getDocumentType(), request, maxRecordBytes)) {
      deadLetter(
          record,
          source,
          jobId,
          DeadLetterReason.REQUEST_TOO_LARGE,
          "the extraction request would be "
              + request.length
              + " bytes, over the "
              + maxRecordBytes
              + "-byte record limit",
          record.value());
      return;
    }
    seen.put(dedupe, now);
    storeImage(outcome.request());
    context.forward(
        record
            .withKey(shards.key(job.getDocumentType(), job.getJobId()))
            .withValue(request)
            .withHeaders(new RecordHeaders()),
        sinks.replayOnly() || job.getPriority() == Priority.REPLAY
            ? sinks.replayRequests()
            : sinks.requests());
  }

  /**
   * Keeps the image for QC review. A store failure does not hold the job back: the result matters
   * more than a possible review of it, which then shows "image missing".
   */
  private void storeImage(ExtractionRequest request) {
    if (images == null) {
      return;
    }
    ByteBuffer image = request.getImage().duplicate();
    byte[] bytes = new byte[image.remaining()];
    image.get(bytes);
    try {
      images.put(request.getImageSha256(), bytes);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn(
          "job {}: its image was not stored for review ({})",
          request.getJobId(),
          e.getClass().getSimpleName());
    }
  }

  private void deadLetter(
      Record<String, byte[]> record,
      RecordMetadata source,
      String jobId,
      DeadLetterReason reason,
      String detail,
      byte[] original) {
    LOG.debug(
        "job {} from {}-{}@{} dead-lettered: {}",
        jobId,
        source.topic(),
        source.partition(),
        source.offset(),
        reason);
    DeadLetter dead =
        DeadLetters.of(
            jobId,
            reason.name(),
            detail,
            new DeadLetters.Source(source.topic(), source.partition(), source.offset()),
            Instant.ofEpochMilli(context.currentSystemTimeMs()),
            original);
    String topic = Topics.VERIFICATION_JOBS_DLQ.name();
    context.forward(
        record
            .withKey(jobId)
            .withHeaders(new RecordHeaders())
            .withValue(DeadLetters.serialize(deadLetters, topic, jobId, dead, maxRecordBytes)),
        sinks.deadLetters());
  }

  private void forgetExpired(long now) {
    List<String> expired = new ArrayList<>();
    try (KeyValueIterator<String, Long> it = seen.all()) {
      while (it.hasNext()) {
        KeyValue<String, Long> e = it.next();
        if (now - e.value >= window.toMillis()) {
          expired.add(e.key);
        }
      }
    }
    expired.forEach(seen::delete);
  }
}
