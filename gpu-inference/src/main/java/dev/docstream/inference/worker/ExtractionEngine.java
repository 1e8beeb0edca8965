package dev.docstream.inference.worker;

import ai.djl.engine.EngineException;
import dev.docstream.inference.adapter.AdapterCache;
import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.FieldReading;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.inference.worker.internal.GroupPlanner;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a batch of extraction requests into one result each: groups them by adapter, merges each
 * group's adapter once, runs batched inference in micro-batches, and fails only the jobs that are
 * at fault (an image that does not decode, a document type without a usable adapter, a forward
 * pass the engine fails).
 *
 * <p>Owned by one thread (a worker's inference thread); knows nothing of Kafka.
 */
public final class ExtractionEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExtractionEngine.class);

  /** Reason codes of results that are not OK (and a flag for the base-model fallback). */
  public static final String NO_ADAPTER = "NO_ADAPTER";
  public static final String ADAPTER_INVALID = "ADAPTER_INVALID";
  public static final String IMAGE_UNREADABLE = "IMAGE_UNREADABLE";
  public static final String BASE_MODEL_FALLBACK = "BASE_MODEL_FALLBACK";
  public static final String MODEL_ERROR = "MODEL_ERROR";

  /** What to do with a document type that has no adapter. */
  public enum MissingAdapterPolicy {
    /** Reject the job with reason NO_ADAPTER. */
    REJECT,
    /** Run the base model alone and flag the result BASE_MODEL_FALLBACK. */
    BASE_MODEL
  }

  /** Observes the engine's work, for metrics. */
  public interface Listener {
    default void swapped(String adapter, long nanos) {}

    default void cacheLookup(boolean hit) {}

    default void microBatch(int size, long nanos) {}

    /** After each {@link #process} call: how many adapter groups it held and how many swaps it made. */
    default void processed(int requests, int groups, long swaps) {}
  }

  private final Extractor extractor;
  private final MergeEngine merge;
  private final AdapterCache cache;
  private final String baseModelId;
  private final String workerId;
  private final int microBatch;
  private final MissingAdapterPolicy policy;
  private final Listener listener;
  private final Clock clock;
  private long swaps;

  public ExtractionEngine(Extractor extractor, AdapterStore store, long cacheBytes, String baseModelId,
      String workerId, int microBatch, MissingAdapterPolicy policy, Listener listener, Clock clock) {
    this.extractor = extractor;
    this.merge = new MergeEngine(extractor.block(), MergeEngine.RestoreMode.EXACT);
    this.cache = new AdapterCache(store, extractor.manager(), cacheBytes, a -> a == merge.current());
    this.baseModelId = baseModelId;
    this.workerId = workerId;
    this.microBatch = microBatch;
    this.policy = policy;
    this.listener = listener;
    this.clock = clock;
  }

  /** Adapter swaps so far (merges of a different adapter, including back to the base model). */
  public long swaps() {
    return swaps;
  }

  /** The adapter cache, for metrics. */
  public AdapterCache cache() {
    return cache;
  }

  /** Results for the requests, in the order the groups ran. */
  public List<ExtractionResult> process(List<ExtractionRequest> requests) {
    LoadedAdapter current = merge.current();
    List<GroupPlanner.Group> groups = GroupPlanner.plan(requests, current == null ? null : current.id());
    List<ExtractionResult> results = new ArrayList<>(requests.size());
    long swapsBefore = swaps;
    for (int g = 0; g < groups.size(); g++) {
      if (g + 1 < groups.size()) {
        cache.prefetch(groups.get(g + 1).documentType()); // read the next adapter while this group runs
      }
      runGroup(groups.get(g), results);
    }
    listener.processed(requests.size(), groups.size(), swaps - swapsBefore);
    return results;
  }

  private void runGroup(GroupPlanner.Group group, List<ExtractionResult> results) {
    AdapterCache.Lookup lookup = cache.get(group.documentType());
    listener.cacheLookup(lookup.hit());
    String flag = null;
    if (!lookup.found()) {
      if (lookup.failure() != null) {
        group.requests().forEach(r -> results.add(failed(r, ResultStatus.FAILED, ADAPTER_INVALID)));
        return;
      }
      if (policy == MissingAdapterPolicy.REJECT) {
        group.requests().forEach(r -> results.add(failed(r, ResultStatus.REJECTED, NO_ADAPTER)));
        return;
      }
      flag = BASE_MODEL_FALLBACK;
    }
    LoadedAdapter adapter = lookup.adapter();
    if (merge.current() != adapter) {
      long t0 = System.nanoTime();
      merge.merge(adapter);
      swaps++;
      listener.swapped(adapter == null ? "base" : adapter.id(), System.nanoTime() - t0);
    }
    List<ExtractionRequest> readable = new ArrayList<>();
    List<BufferedImage> images = new ArrayList<>();
    for (ExtractionRequest r : group.requests()) {
      try {
        images.add(ImagePreprocessor.decode(bytes(r.getImage())));
        readable.add(r);
      } catch (ImagePreprocessor.UnreadableImageException e) {
        results.add(failed(r, ResultStatus.FAILED, IMAGE_UNREADABLE));
      }
    }
    for (int from = 0; from < readable.size(); from += microBatch) {
      int to = Math.min(readable.size(), from + microBatch);
      long t0 = System.nanoTime();
      List<Map<DocumentField, FieldReading>> readings;
      try {
        readings = extractor.extract(images.subList(from, to), adapter == null ? Map.of() : adapter.fieldFormats());
      } catch (EngineException e) {
        // One failing forward pass fails its own micro-batch only, never the poll.
        LOG.error("micro-batch of {} jobs for {} failed in the engine: {}", to - from, group.documentType(), e.toString());
        readable.subList(from, to).forEach(r -> results.add(failed(r, ResultStatus.FAILED, MODEL_ERROR)));
        continue;
      }
      long nanos = System.nanoTime() - t0;
      listener.microBatch(to - from, nanos);
      float perJobMs = nanos / 1e6f / (to - from);
      for (int i = from; i < to; i++) {
        results.add(ok(readable.get(i), readings.get(i - from), adapter, flag, perJobMs, to - from));
      }
    }
  }

  private ExtractionResult ok(ExtractionRequest r, Map<DocumentField, FieldReading> reading, LoadedAdapter adapter,
      String flag, float modelMs, int batchSize) {
    List<ExtractedField> fields = new ArrayList<>();
    for (DocumentField f : r.getRequestedFields()) {
      FieldReading fr = reading.get(f);
      fields.add(ExtractedField.newBuilder().setField(f).setValue(fr.value().isEmpty() ? null : fr.value())
          .setConfidence((float) fr.confidence()).build());
    }
    return base(r, ResultStatus.OK, flag).setFields(fields)
        .setAdapterId(adapter == null ? null : adapter.id()).setAdapterVersion(adapter == null ? null : adapter.version())
        .setModelMs(modelMs).setBatchSize(batchSize).build();
  }

  private ExtractionResult failed(ExtractionRequest r, ResultStatus status, String reason) {
    return base(r, status, reason).setFields(List.of()).setModelMs(0).setBatchSize(0).build();
  }

  private ExtractionResult.Builder base(ExtractionRequest r, ResultStatus status, String reason) {
    return ExtractionResult.newBuilder().setJobId(r.getJobId()).setTenantId(r.getTenantId())
        .setDocumentType(r.getDocumentType()).setStatus(status).setReason(reason).setBaseModelId(baseModelId)
        .setSubmittedAt(r.getSubmittedAt()).setCompletedAt(clock.instant()).setWorkerId(workerId)
        .setPriority(r.getPriority());
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  /** Counts of results by status and reason, for logs. */
  public static Map<String, Integer> summary(List<ExtractionResult> results) {
    Map<String, Integer> counts = new HashMap<>();
    results.forEach(r -> counts.merge(r.getStatus() + (r.getReason() == null ? "" : "/" + r.getReason()), 1, Integer::sum));
    return counts;
  }

  @Override
  public void close() {
    cache.close();
    merge.close();
  }
}
