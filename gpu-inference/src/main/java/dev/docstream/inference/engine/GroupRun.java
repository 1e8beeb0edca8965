package dev.docstream.inference.engine;

import ai.djl.engine.EngineException;
import dev.docstream.inference.engine.ExtractionEngine.Stage;
import dev.docstream.inference.engine.internal.GroupPlanner;
import dev.docstream.inference.engine.internal.Refusals;
import dev.docstream.inference.engine.internal.Results;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.errors.ResultReason;
import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one adapter group's readable jobs in micro-batches on the weights merged for it, each
 * micro-batch's read-out (output decoding) on the read-out thread while the model runs the next
 * one, so the engine's thread does forward passes. Results are added in micro-batch order. A
 * forward pass the engine fails fails its micro-batch only (MODEL_ERROR); a non-finite output fails
 * its job (NON_FINITE_OUTPUT) and, for an adapter, refuses it: the base weights are restored and
 * the rest of the group, the micro-batch already run after it included, fails as ADAPTER_INVALID.
 *
 * <p>Used by the engine's thread only; the read-out tasks read their logits and the adapter's
 * formats, nothing else.
 */
final class GroupRun {
  private static final Logger LOG = LoggerFactory.getLogger(GroupRun.class);

  private final Extractor extractor;
  private final MergeEngine merge;
  private final Results build;
  private final ExtractionEngine.Listener listener;
  private final Refusals refusals;
  private final int microBatch;
  private final ExecutorService readOut;
  private final ImagePreprocessor preprocessor;

  GroupRun(
      Extractor extractor,
      MergeEngine merge,
      Results build,
      ExtractionEngine.Listener listener,
      Refusals refusals,
      int microBatch,
      ExecutorService readOut,
      ImagePreprocessor preprocessor) {
    this.extractor = extractor;
    this.merge = merge;
    this.build = build;
    this.listener = listener;
    this.refusals = refusals;
    this.microBatch = microBatch;
    this.readOut = readOut;
    this.preprocessor = preprocessor;
  }

  /** A micro-batch run: its read-out pending, or the engine's failure. */
  private record Pending(
      int from, int to, long forwardNanos, Future<Readings> read, EngineException failed) {}

  private record Readings(List<Map<DocumentField, FieldReading>> values, long nanos) {}

  /** The engine's thread was interrupted (the worker stops): no job of the batch is answered. */
  static final class Interrupted extends RuntimeException {
    Interrupted(InterruptedException cause) {
      super("interrupted while reading a micro-batch out", cause);
    }
  }

  /**
   * Runs the group; returns the swaps it made (1 when it restored the base weights).
   *
   * @param adapter the adapter merged for it, or null for the base model alone
   * @param flag the results' reason flag (BASE_MODEL_FALLBACK), or null
   */
  int run(
      GroupPlanner.Group group,
      LoadedAdapter adapter,
      String flag,
      List<ExtractionRequest> readable,
      List<BufferedImage> decoded,
      DecodedImages inputs,
      List<ExtractionResult> results) {
    ArrayDeque<Pending> pending = new ArrayDeque<>();
    try {
      for (int from = 0; from < readable.size(); from += microBatch) {
        int to = Math.min(readable.size(), from + microBatch);
        pending.add(forward(adapter, decoded, inputs, from, to));
        // The one before is read out by now, or nearly: its results go in while this one runs.
        if (pending.size() > 1
            && refused(pending.poll(), group, adapter, flag, readable, results)) {
          return 1;
        }
      }
      while (!pending.isEmpty()) {
        if (refused(pending.poll(), group, adapter, flag, readable, results)) {
          return 1;
        }
      }
      return 0;
    } finally {
      for (Pending p : pending) {
        if (p.read() != null) {
          p.read().cancel(false);
        }
      }
    }
  }

  /**
   * Adds a micro-batch's results; if its adapter produced a non-finite output, restores the base
   * weights, refuses the adapter, fails the rest of the group and says so.
   */
  private boolean refused(
      Pending done,
      GroupPlanner.Group group,
      LoadedAdapter adapter,
      String flag,
      List<ExtractionRequest> readable,
      List<ExtractionResult> results) {
    if (!finish(done, group, adapter, flag, readable, results)) {
      return false;
    }
    merge.restoreBase(); // this adapter's outputs cannot be trusted
    refusals.refuse(
        group.documentType(),
        group.route().key(),
        "adapter " + adapter.id() + " produced non-finite outputs");
    readable
        .subList(done.to(), readable.size())
        .forEach(
            r ->
                results.add(
                    build.failed(r, ResultStatus.FAILED, ResultReason.ADAPTER_INVALID.name())));
    return true;
  }

  private Pending forward(
      LoadedAdapter adapter, List<BufferedImage> decoded, DecodedImages inputs, int from, int to) {
    long t0 = System.nanoTime();
    float[] logits;
    try {
      logits = extractor.logits(input(decoded.subList(from, to), inputs), to - from);
    } catch (EngineException e) {
      return new Pending(from, to, 0, null, e);
    }
    long forward = System.nanoTime() - t0;
    listener.stage(Stage.FORWARD, to - from, forward);
    int n = to - from;
    Future<Readings> read =
        readOut.submit(
            () -> {
              long r0 = System.nanoTime();
              // The adapter that ran the batch reads its fields' formats and calibrates their
              // confidences; the base model alone reads free text at its own confidence.
              List<Map<DocumentField, FieldReading>> values =
                  adapter == null
                      ? extractor.read(logits, n, Map.of(), 1)
                      : extractor.read(
                          logits, n, adapter.fieldFormats(), adapter.confidenceTemperature());
              long nanos = System.nanoTime() - r0;
              listener.stage(Stage.OUTPUT_DECODE, n, nanos);
              return new Readings(values, nanos);
            });
    return new Pending(from, to, forward, read, null);
  }

  /** Adds a micro-batch's results; true when an adapter produced a non-finite output. */
  private boolean finish(
      Pending p,
      GroupPlanner.Group group,
      LoadedAdapter adapter,
      String flag,
      List<ExtractionRequest> readable,
      List<ExtractionResult> results) {
    int n = p.to() - p.from();
    if (p.failed() != null) { // one failing forward pass fails its own micro-batch only
      LOG.error(
          "micro-batch of {} jobs for {} failed in the engine: {}",
          n,
          group.documentType(),
          p.failed().toString());
      readable
          .subList(p.from(), p.to())
          .forEach(
              r ->
                  results.add(
                      build.failed(r, ResultStatus.FAILED, ResultReason.MODEL_ERROR.name())));
      return false;
    }
    Readings readings = get(p.read());
    long nanos = p.forwardNanos() + readings.nanos();
    listener.microBatch(n, nanos);
    float perJobMs = nanos / 1e6f / n;
    boolean nonFinite = false;
    for (int i = p.from(); i < p.to(); i++) {
      Map<DocumentField, FieldReading> reading = readings.values().get(i - p.from());
      if (reading.values().stream().allMatch(f -> Double.isFinite(f.confidence()))) {
        results.add(build.ok(readable.get(i), reading, adapter, flag, perJobMs, n));
      } else { // a NaN would also slip past any confidence threshold
        nonFinite = true;
        results.add(
            build.failed(
                readable.get(i), ResultStatus.FAILED, ResultReason.NON_FINITE_OUTPUT.name()));
      }
    }
    if (nonFinite && adapter == null) {
      LOG.error(
          "the base model produced non-finite outputs for {} jobs of {}", n, group.documentType());
    }
    return nonFinite && adapter != null;
  }

  /** The micro-batch's model input: preprocessed ahead where it was, here for the rest. */
  private float[] input(List<BufferedImage> images, DecodedImages inputs) {
    int size = preprocessor.inputSize();
    float[] batch = new float[images.size() * size];
    for (int i = 0; i < images.size(); i++) {
      float[] ahead = inputs.input(images.get(i));
      if (ahead != null) {
        System.arraycopy(ahead, 0, batch, i * size, size);
      } else {
        preprocessor.toInput(images.get(i), batch, i * size);
      }
    }
    return batch;
  }

  private static Readings get(Future<Readings> read) {
    try {
      return read.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Interrupted(e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r
          ? r
          : new IllegalStateException(e.getCause());
    }
  }
}
