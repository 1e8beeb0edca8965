package dev.docstream.inference.engine;

import dev.docstream.inference.adapter.AdapterCache;
import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.inference.engine.internal.GroupPlanner;
import dev.docstream.inference.engine.internal.Refusals;
import dev.docstream.inference.engine.internal.Results;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.errors.ResultReason;
import dev.docstream.schemas.image.BoundedImageDecoder;
import java.awt.image.BufferedImage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a batch of extraction requests into one result each: groups them by adapter, merges each
 * group's adapter once, runs batched inference in micro-batches, and fails only the jobs that are
 * at fault (an image that does not decode, a document type without a usable adapter, a forward pass
 * the engine fails).
 *
 * <p>Owned by one thread (a worker's inference thread); knows nothing of Kafka.
 */
public final class ExtractionEngine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExtractionEngine.class);

  /** What to do with a document type that has no adapter. */
  public enum MissingAdapterPolicy {
    /** Reject the job with reason NO_ADAPTER. */
    REJECT,
    /** Run the base model alone and flag the result BASE_MODEL_FALLBACK. */
    BASE_MODEL
  }

  /** The stages of a job's work on the worker, in the order they run. */
  public enum Stage {
    /** The request's Avro bytes decoded. */
    REQUEST_DECODE,
    /** The image decoded (PNG or JPEG) and, when decoded ahead, scaled into the model's input. */
    IMAGE_DECODE,
    /** The batched forward pass (and the scaling of images not decoded ahead). */
    FORWARD,
    /** The logits read out into field values and confidences. */
    OUTPUT_DECODE,
    /** The results, dead letters and offsets written in one transaction. */
    COMMIT
  }

  /** Observes the engine's work, for metrics. */
  public interface Listener {
    default void swapped(String adapter, long nanos) {}

    default void cacheLookup(boolean hit) {}

    default void microBatch(int size, long nanos) {}

    /** Time the thread spent in one stage of the work, for the per-job cost breakdown. */
    default void stage(Stage stage, int jobs, long nanos) {}

    /**
     * After each {@link #process} call: how many adapter groups it held and how many swaps it made.
     */
    default void processed(int requests, int groups, long swaps) {}
  }

  private final Extractor extractor;
  private final MergeEngine merge;
  private final BoundedImageDecoder images;
  private final AdapterCache cache;
  private final AdapterStore store;
  private final Results build;
  private final int microBatch;
  private final MissingAdapterPolicy policy;
  private final Listener listener;
  private final Set<LoadedAdapter> inUse = new HashSet<>();
  private final MixedBatches mixed;

  /** With the hybrid mode, the smallest group that is merged; 0: every group is. */
  private final int hybridMinGroup;

  private long swaps;

  /** The images of the requests of the {@link #process} call running now. */
  private DecodedImages decoded;

  private final Refusals refusals;
  private final GroupRun groupRun;
  private final ImagePreprocessor preprocessor;

  /** Reads micro-batches out while the model runs the next one (see {@link GroupRun}). */
  private final ExecutorService readOut =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "docstream-readout");
            t.setDaemon(true);
            return t;
          });

  public ExtractionEngine(
      Extractor extractor,
      AdapterStore store,
      EngineOptions options,
      Listener listener,
      Clock clock) {
    this.extractor = extractor;
    this.merge =
        new MergeEngine(
            extractor.freezeParameters().block().linears(), MergeEngine.RestoreMode.EXACT);
    this.store = store;
    this.cache =
        new AdapterCache(
            store,
            extractor.manager(),
            options.cacheBytes(),
            a -> a == merge.current() || inUse.contains(a));
    this.refusals = new Refusals(cache, store);
    this.images = new BoundedImageDecoder(options.maxImagePixels());
    this.build = new Results(options.baseModelId(), options.workerId(), clock);
    this.microBatch = options.microBatch();
    this.policy = options.policy();
    this.listener = listener;
    this.preprocessor = new ImagePreprocessor(extractor.block().config());
    this.groupRun =
        new GroupRun(
            extractor,
            merge,
            build,
            listener,
            refusals,
            options.microBatch(),
            readOut,
            preprocessor);
    this.hybridMinGroup =
        options.adapterMode() == EngineOptions.AdapterMode.HYBRID ? options.hybridMinGroup() : 0;
    this.mixed =
        new MixedBatches(
            extractor,
            merge,
            cache,
            () -> decoded,
            build,
            microBatch,
            listener,
            inUse,
            (r, a) ->
                refusals.refuse(
                    r.getDocumentType(),
                    a.key(),
                    "adapter " + a.id() + " produced non-finite outputs"));
  }

  /** Adapter swaps so far (merges of a different adapter, including back to the base model). */
  public long swaps() {
    return swaps;
  }

  /** The id of the adapter merged now ({@code T@v}), or null for the base model; for metrics. */
  public String mergedAdapter() {
    LoadedAdapter a = merge.current();
    return a == null ? null : a.id();
  }

  /** The adapter cache, for metrics. */
  public AdapterCache cache() {
    return cache;
  }

  /** Results for the requests, in the order the groups ran; images decoded as groups run. */
  public List<ExtractionResult> process(List<ExtractionRequest> requests) {
    return process(requests, DecodedImages.inline(images));
  }

  /**
   * Decodes the requests' images now, for a later {@link #process}: safe on another thread than the
   * engine's, so that the next batch decodes while the model runs this one.
   */
  public DecodedImages decodeAhead(List<ExtractionRequest> requests) {
    long t0 = System.nanoTime();
    DecodedImages out = DecodedImages.decode(images, preprocessor, requests);
    listener.stage(Stage.IMAGE_DECODE, requests.size(), System.nanoTime() - t0);
    return out;
  }

  /** Results for the requests, their images decoded ahead, in the order the groups ran. */
  public List<ExtractionResult> process(List<ExtractionRequest> requests, DecodedImages images) {
    decoded = images;
    try {
      return run(requests);
    } finally {
      decoded = null;
    }
  }

  private List<ExtractionResult> run(List<ExtractionRequest> requests) {
    LoadedAdapter current = merge.current();
    // Routed once per call: a new adapter version takes over between two calls (polls), never
    // within one.
    List<GroupPlanner.Group> groups =
        GroupPlanner.plan(
            requests,
            r -> store.route(r.getDocumentType(), r.getJobId()),
            current == null ? null : current.key());
    List<ExtractionResult> results = new ArrayList<>(requests.size());
    long swapsBefore = swaps;
    // In the hybrid mode the small groups run unmerged in mixed micro-batches after the others.
    GroupPlanner.Split split =
        GroupPlanner.split(groups, hybridMinGroup, current == null ? null : current.key());
    List<GroupPlanner.Group> mergedGroups = split.merged();
    List<GroupPlanner.Group> rare = split.small();
    for (int g = 0; g < mergedGroups.size(); g++) {
      String next = g + 1 < mergedGroups.size() ? mergedGroups.get(g + 1).route().key() : null;
      if (next != null) {
        cache.prefetch(next); // read the next adapter while this group runs
      }
      runGuarded(mergedGroups.get(g), results);
    }
    if (!rare.isEmpty()) {
      swaps += mixed.run(rare, results, g -> runGuarded(g, results));
    }
    listener.processed(requests.size(), groups.size(), swaps - swapsBefore);
    return results;
  }

  /**
   * Runs a group; if it throws (an error no reason code foresaw: a bug, a failing disk), runs its
   * jobs one by one, and a job that throws alone fails as PROCESSING_FAILED. So one poison job
   * fails only itself, and never the batch, the transaction, or the worker, which would meet it
   * again after every restart.
   */
  private void runGuarded(GroupPlanner.Group group, List<ExtractionResult> results) {
    List<ExtractionResult> out = new ArrayList<>(group.requests().size());
    try {
      runGroup(group, out);
      results.addAll(out);
      return;
    } catch (RuntimeException e) {
      if (e instanceof MergeEngine.CorruptedWeightsException || e instanceof GroupRun.Interrupted) {
        throw e; // the model must be reloaded, or the worker stops: do not serve on
      }
      LOG.error(
          "group of {} jobs for {} failed ({}); running its jobs one by one",
          group.requests().size(),
          group.documentType(),
          e.toString());
    }
    for (ExtractionRequest r : group.requests()) {
      out.clear();
      try {
        merge.restoreBase(); // the failure may have left an adapter half merged
        runGroup(new GroupPlanner.Group(group.documentType(), group.route(), List.of(r)), out);
        results.addAll(out);
      } catch (RuntimeException e) {
        if (e instanceof MergeEngine.CorruptedWeightsException
            || e instanceof GroupRun.Interrupted) {
          throw e; // the model must be reloaded, or the worker stops: do not serve on
        }
        LOG.error(
            "job {} ({}) failed in processing: {}",
            r.getJobId(),
            group.documentType(),
            e.toString());
        results.add(build.failed(r, ResultStatus.FAILED, ResultReason.PROCESSING_FAILED.name()));
      }
    }
  }

  private void runGroup(GroupPlanner.Group group, List<ExtractionResult> results) {
    AdapterStore.Route route = group.route();
    AdapterCache.Lookup lookup =
        route.key() != null
            ? cache.get(route.key())
            : new AdapterCache.Lookup(null, false, route.failure());
    if (route.key() != null) {
      listener.cacheLookup(lookup.hit());
    }
    String flag = null;
    if (!lookup.found()) {
      if (lookup.failure() != null) {
        if (route.key() != null) {
          store.refused(route.key(), lookup.failure());
        }
        refusals.log(group.documentType(), lookup.failure());
        group
            .requests()
            .forEach(
                r ->
                    results.add(
                        build.failed(r, ResultStatus.FAILED, ResultReason.ADAPTER_INVALID.name())));
        return;
      }
      if (policy == MissingAdapterPolicy.REJECT) {
        group
            .requests()
            .forEach(
                r ->
                    results.add(
                        build.failed(r, ResultStatus.REJECTED, ResultReason.NO_ADAPTER.name())));
        return;
      }
      flag = ResultReason.BASE_MODEL_FALLBACK.name();
    }
    LoadedAdapter adapter = lookup.adapter();
    if (merge.current() != adapter) {
      long t0 = System.nanoTime();
      try {
        merge.merge(adapter);
      } catch (MergeEngine.NonFiniteWeightsException e) {
        swaps++; // it merged and restored the base
        refusals.refuse(group.documentType(), route.key(), e.getMessage());
        group
            .requests()
            .forEach(
                r ->
                    results.add(
                        build.failed(r, ResultStatus.FAILED, ResultReason.ADAPTER_INVALID.name())));
        return;
      }
      swaps++;
      listener.swapped(adapter == null ? "base" : adapter.id(), System.nanoTime() - t0);
    }
    List<ExtractionRequest> readable = new ArrayList<>();
    List<BufferedImage> decoded = new ArrayList<>();
    long decodeStart = System.nanoTime();
    build.decodeEach(this.decoded, group.requests(), readable, decoded, results);
    if (!this.decoded.ahead()) { // decoded ahead, decodeAhead counted it
      listener.stage(Stage.IMAGE_DECODE, group.requests().size(), System.nanoTime() - decodeStart);
    }
    swaps += groupRun.run(group, adapter, flag, readable, decoded, this.decoded, results);
  }

  @Override
  public void close() {
    try {
      merge.restoreBase(); // leave the model as it was given, for whoever uses it next
    } catch (RuntimeException e) {
      LOG.warn("restoring the base weights on close failed: {}", e.toString());
    }
    readOut.shutdownNow();
    cache.close();
    merge.close();
  }
}
