package dev.docstream.topology.qc.internal;

import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import dev.docstream.topology.qc.QcSampler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples results into review tasks: one task per job, naming every reason that applied. Counts
 * each adapter version's results (for NEW_ADAPTER) in a store, and remembers the jobs it tasked for
 * the dedupe window, so a result seen twice (a re-processed batch upstream) is tasked once.
 *
 * <p>The results are DocStream's own contract, so an undecodable one is a bug upstream, not bad
 * client input: it is logged with its offset and skipped, and the partition goes on.
 */
public final class QcRouterProcessor implements Processor<String, byte[], String, QcTask> {
  /** Jobs already tasked, with when. */
  public static final String TASKED_STORE = "qc-router-tasked";

  /** Results seen per adapter id. */
  public static final String ADAPTER_RESULTS_STORE = "qc-router-adapter-results";

  private static final Logger LOG = LoggerFactory.getLogger(QcRouterProcessor.class);

  private final AvroSerde<ExtractionResult> results;
  private final QcSampler sampler;
  private final Duration window;
  private ProcessorContext<String, QcTask> context;
  private KeyValueStore<String, Long> tasked;
  private KeyValueStore<String, Long> adapterResults;

  public QcRouterProcessor(SchemaRegistry registry, QcSampler sampler, Duration window) {
    this.results = Topics.EXTRACTION_RESULTS.valueSerde(registry);
    this.sampler = sampler;
    this.window = window;
  }

  @Override
  public void init(ProcessorContext<String, QcTask> context) {
    this.context = context;
    this.tasked = context.getStateStore(TASKED_STORE);
    this.adapterResults = context.getStateStore(ADAPTER_RESULTS_STORE);
    Duration every = window.compareTo(Duration.ofMinutes(1)) < 0 ? window : Duration.ofMinutes(1);
    context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::forgetExpired);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    if (record.value() == null) {
      return; // a tombstone: nothing to review
    }
    ExtractionResult r;
    try {
      r = results.deserialize(Topics.EXTRACTION_RESULTS.name(), record.value());
    } catch (WireFormatException e) {
      if (e.reason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
        throw e; // retried from the last commit
      }
      LOG.warn(
          "undecodable result at {} skipped: {}",
          context.recordMetadata().map(m -> m.topic() + "-" + m.partition() + "@" + m.offset()),
          e.reason());
      return;
    }
    if (!QcSampler.reviewable(r)) {
      return;
    }
    long before = 0;
    if (r.getAdapterId() != null) {
      Long seen = adapterResults.get(r.getAdapterId());
      before = seen == null ? 0 : seen;
      adapterResults.put(r.getAdapterId(), before + 1);
    }
    List<String> reasons = sampler.reasons(r, before);
    if (reasons.isEmpty() || tasked.get(r.getJobId()) != null) {
      return;
    }
    long now = context.currentSystemTimeMs();
    tasked.put(r.getJobId(), now);
    QcTask task =
        QcTask.newBuilder()
            .setJobId(r.getJobId())
            .setDocumentType(r.getDocumentType())
            .setAdapterId(r.getAdapterId())
            .setAdapterVersion(r.getAdapterVersion())
            .setSampleReason(reasons.get(0))
            .setSampleReasons(reasons)
            .setFields(new ArrayList<>(r.getFields()))
            .setCreatedAt(Instant.ofEpochMilli(now))
            .setImageSha256(r.getImageSha256())
            .setTenantId(r.getTenantId())
            .setReplayOf(r.getReplayOf())
            .setResultCompletedAt(r.getCompletedAt())
            .build();
    context.forward(record.withKey(r.getJobId()).withValue(task));
  }

  private void forgetExpired(long now) {
    List<String> expired = new ArrayList<>();
    try (KeyValueIterator<String, Long> it = tasked.all()) {
      while (it.hasNext()) {
        KeyValue<String, Long> e = it.next();
        if (now - e.value >= window.toMillis()) {
          expired.add(e.key);
        }
      }
    }
    expired.forEach(tasked::delete);
  }
}
