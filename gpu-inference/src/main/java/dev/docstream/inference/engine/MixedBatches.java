package dev.docstream.inference.engine;

import ai.djl.engine.EngineException;
import dev.docstream.adapters.FieldFormat;
import dev.docstream.inference.adapter.AdapterCache;
import dev.docstream.inference.engine.internal.GroupPlanner;
import dev.docstream.inference.engine.internal.Results;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.lora.PerSampleAdapters;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.errors.ResultReason;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hybrid mode's rare groups: their requests pooled and run on the base weights in mixed
 * micro-batches, every sample with its own adapter unmerged. Groups whose adapter does not load go
 * back to the merged path, which knows every way a group can fail; so does the whole pool if the
 * mixed run throws. Owned by the engine's thread.
 */
final class MixedBatches {
  private static final Logger LOG = LoggerFactory.getLogger(MixedBatches.class);

  private final Extractor extractor;
  private final MergeEngine merge;
  private final AdapterCache cache;
  private final java.util.function.Supplier<DecodedImages> images;
  private final Results build;
  private final int microBatch;
  private final ExtractionEngine.Listener listener;
  private final Set<LoadedAdapter> inUse;
  private final java.util.function.BiConsumer<ExtractionRequest, LoadedAdapter> refuse;

  /**
   * @param inUse adapters the cache must not evict while a mixed batch is formed (the cache's
   *     pinned predicate reads it)
   * @param refuse called, once the pool has run, for each adapter that produced non-finite outputs
   *     (with one of its requests)
   */
  MixedBatches(
      Extractor extractor,
      MergeEngine merge,
      AdapterCache cache,
      java.util.function.Supplier<DecodedImages> images,
      Results build,
      int microBatch,
      ExtractionEngine.Listener listener,
      Set<LoadedAdapter> inUse,
      java.util.function.BiConsumer<ExtractionRequest, LoadedAdapter> refuse) {
    this.extractor = extractor;
    this.merge = merge;
    this.cache = cache;
    this.images = images;
    this.build = build;
    this.microBatch = microBatch;
    this.listener = listener;
    this.inUse = inUse;
    this.refuse = refuse;
  }

  /**
   * Runs the rare groups; returns the swaps made (1 when the merged adapter was taken out first).
   *
   * @param merged runs a group on the merged path
   */
  long run(
      List<GroupPlanner.Group> rare,
      List<ExtractionResult> results,
      Consumer<GroupPlanner.Group> merged) {
    Map<ExtractionRequest, LoadedAdapter> adapterOf = new IdentityHashMap<>();
    // Sub-pools by rank: one mixed batch gathers matrices of one rank.
    Map<Long, List<ExtractionRequest>> pools = new LinkedHashMap<>();
    List<GroupPlanner.Group> back = new ArrayList<>();
    long swaps = 0;
    try {
      for (GroupPlanner.Group g : rare) {
        AdapterCache.Lookup lookup = cache.get(g.route().key());
        listener.cacheLookup(lookup.hit());
        if (!lookup.found()) {
          back.add(g); // refused or missing: the merged path says why, job by job
          continue;
        }
        inUse.add(lookup.adapter());
        long rank = rank(lookup.adapter());
        for (ExtractionRequest r : g.requests()) {
          adapterOf.put(r, lookup.adapter());
          pools.computeIfAbsent(rank, k -> new ArrayList<>()).add(r);
        }
      }
      List<ExtractionResult> out = new ArrayList<>();
      Map<LoadedAdapter, ExtractionRequest> refused = new IdentityHashMap<>();
      try {
        if (!pools.isEmpty() && merge.current() != null) {
          long t0 = System.nanoTime();
          merge.restoreBase();
          swaps++;
          listener.swapped("base", System.nanoTime() - t0);
        }
        for (List<ExtractionRequest> pool : pools.values()) {
          runPool(pool, adapterOf, refused, out);
        }
        results.addAll(out);
      } catch (RuntimeException e) {
        if (e instanceof MergeEngine.CorruptedWeightsException) {
          throw e;
        }
        LOG.error(
            "mixed batch of {} jobs failed ({}); running their groups merged",
            adapterOf.size(),
            e.toString());
        back.clear();
        back.addAll(rare);
        refused.clear();
      }
      // Refused only now: the adapter was still needed by the pool's later micro-batches.
      refused.forEach((adapter, request) -> refuse.accept(request, adapter));
    } finally {
      inUse.clear();
    }
    back.forEach(merged);
    return swaps;
  }

  /**
   * Runs one pool in mixed micro-batches. A sample whose adapter produced non-finite outputs fails
   * as NON_FINITE_OUTPUT; its adapter goes into {@code refused}, and that adapter's later jobs in
   * the pool fail as ADAPTER_INVALID without running.
   */
  private void runPool(
      List<ExtractionRequest> pool,
      Map<ExtractionRequest, LoadedAdapter> adapterOf,
      Map<LoadedAdapter, ExtractionRequest> refused,
      List<ExtractionResult> out) {
    List<ExtractionRequest> readable = new ArrayList<>();
    List<BufferedImage> decoded = new ArrayList<>();
    build.decodeEach(images.get(), pool, readable, decoded, out);
    int next = 0;
    while (next < readable.size()) {
      List<ExtractionRequest> batch = new ArrayList<>();
      List<BufferedImage> batchImages = new ArrayList<>();
      for (; next < readable.size() && batch.size() < microBatch; next++) {
        ExtractionRequest r = readable.get(next);
        if (refused.containsKey(adapterOf.get(r))) {
          out.add(build.failed(r, ResultStatus.FAILED, ResultReason.ADAPTER_INVALID.name()));
        } else {
          batch.add(r);
          batchImages.add(decoded.get(next));
        }
      }
      if (!batch.isEmpty()) {
        runMicroBatch(batch, batchImages, adapterOf, refused, out);
      }
    }
  }

  private void runMicroBatch(
      List<ExtractionRequest> batch,
      List<BufferedImage> batchImages,
      Map<ExtractionRequest, LoadedAdapter> adapterOf,
      Map<LoadedAdapter, ExtractionRequest> refused,
      List<ExtractionResult> out) {
    List<LoadedAdapter> adapters = new ArrayList<>();
    List<Map<DocumentField, FieldFormat>> formats = new ArrayList<>();
    double[] temperatures = new double[batch.size()];
    for (int i = 0; i < batch.size(); i++) {
      LoadedAdapter a = adapterOf.get(batch.get(i));
      adapters.add(a);
      formats.add(a.fieldFormats());
      temperatures[i] = a.confidenceTemperature();
    }
    long t0 = System.nanoTime();
    List<Map<DocumentField, FieldReading>> readings;
    try (PerSampleAdapters each = merge.attachPerSample(adapters)) {
      readings = extractor.extractEach(batchImages, formats, temperatures);
    } catch (EngineException e) {
      LOG.error(
          "mixed micro-batch of {} jobs failed in the engine: {}", batch.size(), e.toString());
      batch.forEach(
          r -> out.add(build.failed(r, ResultStatus.FAILED, ResultReason.MODEL_ERROR.name())));
      return;
    }
    long nanos = System.nanoTime() - t0;
    listener.microBatch(batch.size(), nanos);
    float perJobMs = nanos / 1e6f / batch.size();
    for (int i = 0; i < batch.size(); i++) {
      ExtractionRequest r = batch.get(i);
      if (readings.get(i).values().stream().allMatch(f -> Double.isFinite(f.confidence()))) {
        out.add(build.ok(r, readings.get(i), adapters.get(i), null, perJobMs, batch.size()));
      } else {
        out.add(build.failed(r, ResultStatus.FAILED, ResultReason.NON_FINITE_OUTPUT.name()));
        refused.putIfAbsent(adapters.get(i), r);
      }
    }
  }

  private static long rank(LoadedAdapter a) {
    return a.modules().isEmpty() ? 0 : a.modules().values().iterator().next()[0].getShape().get(0);
  }
}
