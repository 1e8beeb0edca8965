package dev.docstream.topology.intake.internal;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import dev.docstream.topology.intake.ReasonCode;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
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
 * Decodes, validates and de-duplicates each job. Emits an ExtractionRequest keyed by document type,
 * or a DeadLetter keyed by job id. A bad record never throws: it becomes a dead letter and the
 * records behind it carry on. Only a registry outage throws, so that the job is retried rather
 * than dead-lettered for a fault that is not its own.
 */
public final class IntakeProcessor implements Processor<String, byte[], String, SpecificRecord> {
  private static final Logger LOG = LoggerFactory.getLogger(IntakeProcessor.class);

  private final AvroSerde<VerificationJob> jobs;
  private final JobValidator validator;
  private final String storeName;
  private final Duration window;
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, Long> seen;

  public IntakeProcessor(SchemaRegistry registry, JobValidator validator, String storeName, Duration window) {
    this.jobs = Topics.VERIFICATION_JOBS.valueSerde(registry);
    this.validator = validator;
    this.storeName = storeName;
    this.window = window;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.seen = context.getStateStore(storeName);
    Duration every = window.compareTo(Duration.ofMinutes(1)) < 0 ? window : Duration.ofMinutes(1);
    context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::forgetExpired);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata source = context.recordMetadata().orElseThrow();
    long now = context.currentSystemTimeMs();
    if (record.value() == null) {
      deadLetter(record, source, record.key(), ReasonCode.UNDECODABLE, "record has no value", now);
      return;
    }
    VerificationJob job;
    try {
      job = jobs.deserialize(source.topic(), record.value());
    } catch (WireFormatException e) {
      if (e.reason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
        throw e; // not the record's fault: fail the task, Kafka Streams retries from the last commit
      }
      deadLetter(record, source, record.key(), ReasonCode.UNDECODABLE, e.getMessage(), now);
      return;
    }
    JobValidator.Outcome outcome = validator.validate(job, Instant.ofEpochMilli(now));
    if (outcome.rejection() != null) {
      deadLetter(record, source, job.getJobId(), outcome.rejection().reason(), outcome.rejection().detail(), now);
      return;
    }
    Long firstSeen = seen.get(job.getJobId());
    if (firstSeen != null && now - firstSeen < window.toMillis()) {
      // No original value: the first copy is already being processed, a second copy of the
      // personal data in the dead-letter topic serves nobody.
      emitDeadLetter(record, source, job.getJobId(), ReasonCode.DUPLICATE_JOB,
          "job id already accepted " + (now - firstSeen) + " ms ago", now, null);
      return;
    }
    seen.put(job.getJobId(), now);
    context.forward(record.withKey(job.getDocumentType()).withValue(outcome.request()));
  }

  private void deadLetter(Record<String, byte[]> record, RecordMetadata source, String jobId,
      ReasonCode reason, String detail, long now) {
    emitDeadLetter(record, source, jobId, reason, detail, now,
        record.value() == null ? null : ByteBuffer.wrap(record.value()));
  }

  private void emitDeadLetter(Record<String, byte[]> record, RecordMetadata source, String jobId,
      ReasonCode reason, String detail, long now, ByteBuffer original) {
    LOG.debug("job {} from {}-{}@{} dead-lettered: {}", jobId, source.topic(), source.partition(), source.offset(), reason);
    DeadLetter dead = DeadLetter.newBuilder().setJobId(jobId).setReason(reason.name()).setDetail(detail)
        .setSourceTopic(source.topic()).setSourcePartition(source.partition()).setSourceOffset(source.offset())
        .setFailedAt(Instant.ofEpochMilli(now)).setOriginalValue(original).build();
    context.forward(record.withKey(jobId).withValue(dead));
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
