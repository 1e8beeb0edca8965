package dev.docstream.inference.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Merges LoRA adapters into the weights a serving model computes with: {@code W <- W0 + s * B A}.
 *
 * <p>Switching adapters first restores the layers the current adapter touched. {@link
 * RestoreMode#EXACT} (the default) copies them back from a pristine copy of the base weights taken
 * at construction, so the base model is bit-identical however many switches happen. {@link
 * RestoreMode#SUBTRACT} subtracts the old delta instead: one fewer copy, but floating-point error
 * accumulates; it exists to be measured.
 *
 * <p>Not thread-safe: the worker's inference thread owns it and never merges during a forward pass.
 */
public final class MergeEngine implements AutoCloseable {
  /** How a merged adapter is taken out again. */
  public enum RestoreMode {
    /** Copy the base weights back from a pristine copy: exact. */
    EXACT,
    /** Subtract s * B A: cheaper, drifts in floating point. */
    SUBTRACT
  }

  /**
   * How an exact swap writes the weights. Measured side by side by {@code docstream bench --model
   * vit-b}; see the module README for the figures.
   */
  public enum Kernel {
    /**
     * The first implementation, kept to be measured: copy W0 back, then {@code W += (B A) * s} in
     * place (five passes over the weights besides the matmul).
     */
    COPY_THEN_ADD,
    /**
     * Per module {@code W <- W0 + (s B) A}, written to fresh memory that then becomes the weight:
     * no restore copy when one adapter follows another (three passes besides the matmul).
     */
    FUSED,
    /**
     * As {@link #FUSED}, with the same-shaped modules of all layers stacked: one batched matmul and
     * one addition per weight shape; the pristine weights are one contiguous block per shape.
     */
    STACKED
  }

  private final Map<String, LoraLinear> linears;
  private final NDManager manager;
  private final Map<String, NDArray> pristine = new LinkedHashMap<>();
  private final RestoreMode mode;
  private final Kernel kernel;

  /** With {@link Kernel#STACKED}: the pristine weights by shape; else null. */
  private final StackedWeights stacked;

  /** Whether an adapter is attached unmerged: merging then would be wrong (see merge). */
  private boolean unmergedAttached;

  /** Set when a restore failed: the live weights are then unknown. */
  private boolean corrupted;

  /**
   * Adapters whose merged weights were found finite: with exact restores they are the same on every
   * merge, so one check per loaded adapter is enough (checking on every swap cost 16 x the swap
   * itself). Weak keys: an evicted adapter is not kept alive by this set.
   */
  private final Set<LoadedAdapter> verified = Collections.newSetFromMap(new WeakHashMap<>());

  private LoadedAdapter merged;

  /**
   * Takes a pristine copy of every adapted linear layer's weight (a model's {@code linears()}, by
   * module path) and freezes them: a serving model never trains, and in-place updates need no
   * autograd.
   */
  public MergeEngine(Map<String, LoraLinear> linears, RestoreMode mode) {
    this(linears, mode, Kernel.FUSED);
  }

  /** As {@link #MergeEngine(Map, RestoreMode)} with the given swap kernel. */
  public MergeEngine(Map<String, LoraLinear> linears, RestoreMode mode, Kernel kernel) {
    this.linears = new LinkedHashMap<>(linears);
    this.mode = mode;
    this.kernel = kernel;
    for (LoraLinear layer : linears.values()) {
      for (Pair<String, Parameter> p : layer.getParameters()) {
        p.getValue().freeze(true);
      }
    }
    NDManager owner = linears.values().iterator().next().weight().getArray().getManager();
    this.manager = owner.newSubManager();
    if (kernel == Kernel.STACKED) {
      stacked = new StackedWeights(this.linears, manager, pristine);
    } else {
      stacked = null;
      linears.forEach(
          (path, layer) -> {
            NDArray copy = layer.weight().getArray().duplicate();
            copy.attach(manager);
            pristine.put(path, copy);
          });
    }
  }

  /** The adapter merged now, or null for the base model. */
  public LoadedAdapter current() {
    return merged;
  }

  /**
   * Makes {@code adapter} the merged one (null returns to the base model). A no-op when it is
   * already merged.
   *
   * @throws IllegalArgumentException naming the module when the adapter targets a module the model
   *     lacks
   * @throws NonFiniteWeightsException when a merged weight is not finite (an adapter whose values
   *     are finite but so large that {@code W + s * B A} overflows); the base model is restored
   */
  public void merge(LoadedAdapter adapter) {
    if (corrupted) {
      throw new CorruptedWeightsException("the base weights are damaged by a failed restore", null);
    }
    if (adapter == merged) {
      return;
    }
    if (unmergedAttached) {
      throw new IllegalStateException("an adapter is attached unmerged: detach it before merging");
    }
    if (adapter != null) {
      for (String module : adapter.modules().keySet()) {
        if (!linears.containsKey(module)) {
          throw new IllegalArgumentException(
              "adapter " + adapter.id() + " targets module " + module + " which the model lacks");
        }
      }
    }
    try (NDScope scope = new NDScope()) {
      LoadedAdapter previous = merged;
      merged = null;
      if (mode == RestoreMode.SUBTRACT || kernel == Kernel.COPY_THEN_ADD) {
        if (previous != null) {
          try {
            for (var e : previous.modules().entrySet()) {
              NDArray w = linears.get(e.getKey()).weight().getArray();
              if (mode == RestoreMode.EXACT) {
                w.intern(pristine.get(e.getKey()).duplicate());
              } else {
                w.subi(delta(e.getValue(), previous.scale(), w));
              }
            }
          } catch (RuntimeException e) {
            corrupted = true; // some modules restored, some not
            throw new CorruptedWeightsException(
                "restoring the base weights after adapter " + previous.id() + " failed: " + e, e);
          }
        }
        if (adapter != null) {
          mergeInPlace(adapter);
        }
      } else {
        writeFresh(previous, adapter);
      }
      scope.suppressNotUsedWarning();
    }
  }

  /** W += s B A on the live weights (after a restore). */
  private void mergeInPlace(LoadedAdapter adapter) {
    String overflowed = null;
    try {
      for (var e : adapter.modules().entrySet()) {
        NDArray w = linears.get(e.getKey()).weight().getArray();
        w.addi(delta(e.getValue(), adapter.scale(), w));
        if (overflowed == null && !verified.contains(adapter) && !allFinite(w)) {
          overflowed = e.getKey();
        }
      }
    } catch (RuntimeException e) {
      restoreExactly(adapter); // never leave an adapter half merged
      throw e;
    }
    accept(adapter, overflowed);
  }

  /**
   * The fresh-memory kernels: each module {@code adapter} touches gets {@code W0 + (s B) A} as a
   * new array (STACKED: per weight shape, one batched matmul and one addition, the modules' weights
   * then being views of the result); each module only {@code previous} touched gets a copy of W0.
   * Everything is computed before anything is written, and writing is only handing the new arrays
   * to the weights, so a failure leaves no module half-switched.
   */
  private void writeFresh(LoadedAdapter previous, LoadedAdapter adapter) {
    Map<String, NDArray> next = new LinkedHashMap<>();
    String overflowed = null;
    boolean check = adapter != null && !verified.contains(adapter);
    try {
      if (adapter != null) {
        if (stacked != null) {
          overflowed = stacked.write(adapter, next, check);
        }
        for (var e : adapter.modules().entrySet()) {
          if (next.containsKey(e.getKey())) {
            continue;
          }
          NDArray[] ab = e.getValue();
          NDArray s = ab[1].getManager().create(adapter.scale());
          NDArray w = pristine.get(e.getKey()).add(ab[1].mul(s).matMul(ab[0]));
          if (overflowed == null && check && !allFinite(w)) {
            overflowed = e.getKey();
          }
          next.put(e.getKey(), w);
        }
      }
      if (previous != null) {
        for (String module : previous.modules().keySet()) {
          next.computeIfAbsent(module, m -> pristine.get(m).duplicate());
        }
      }
    } catch (RuntimeException e) {
      if (previous != null) {
        restoreExactly(previous); // the weights still hold previous: back to the base model
      }
      throw e;
    }
    if (overflowed != null) {
      if (previous != null) {
        restoreExactly(previous);
      }
      throw nonFinite(adapter, overflowed);
    }
    next.forEach((module, w) -> linears.get(module).weight().getArray().intern(w));
    if (adapter != null) {
      merged = adapter;
      if (mode == RestoreMode.EXACT) {
        verified.add(adapter);
      }
    }
  }

  private void accept(LoadedAdapter adapter, String overflowed) {
    merged = adapter;
    if (overflowed == null && mode == RestoreMode.EXACT) {
      verified.add(adapter);
    }
    if (overflowed != null) {
      restoreExactly(adapter);
      merged = null;
      throw nonFinite(adapter, overflowed);
    }
  }

  private static NonFiniteWeightsException nonFinite(LoadedAdapter adapter, String module) {
    String what = " makes the merged weight of " + module + " non-finite (NaN or infinity)";
    return new NonFiniteWeightsException(
        "adapter " + adapter.id() + what + "; the base weights were restored");
  }

  /**
   * Copies the base weights back into every module {@code adapter} touches (whatever the mode). If
   * even that fails (out of device memory, say), the weights the model computes with are no longer
   * known: every later merge refuses, so the worker stops instead of serving a damaged model.
   */
  private void restoreExactly(LoadedAdapter adapter) {
    try {
      for (String module : adapter.modules().keySet()) {
        linears.get(module).weight().getArray().intern(pristine.get(module).duplicate());
      }
    } catch (RuntimeException e) {
      corrupted = true;
      throw new CorruptedWeightsException(
          "restoring the base weights after adapter " + adapter.id() + " failed: " + e, e);
    }
  }

  /** The base weights could not be restored: the model must be reloaded (restart the worker). */
  public static final class CorruptedWeightsException extends IllegalStateException {
    CorruptedWeightsException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Whether every element is finite. One pass over the weight: cheap next to the merge's matMul.
   */
  static boolean allFinite(NDArray w) {
    return !w.isNaN().any().getBoolean() && !w.isInfinite().any().getBoolean();
  }

  /** A merge produced weights that are not finite. */
  public static final class NonFiniteWeightsException extends RuntimeException {
    NonFiniteWeightsException(String message) {
      super(message);
    }
  }

  /** Returns to the base model. */
  public void restoreBase() {
    merge(null);
  }

  /**
   * Runs {@code adapter} unmerged on every adapted layer ({@code W x + s * B (A x)}) until {@link
   * #detachUnmerged()}; the base weights must be in place (nothing merged).
   */
  public void attachUnmerged(LoadedAdapter adapter) {
    if (merged != null) {
      throw new IllegalStateException(
          "adapter " + merged.id() + " is merged; restore the base model before running unmerged");
    }
    adapter
        .modules()
        .forEach((module, ab) -> linears.get(module).attachUnmerged(ab[0], ab[1], adapter.scale()));
    unmergedAttached = true;
  }

  /** Removes any unmerged adapter. */
  public void detachUnmerged() {
    linears.values().forEach(LoraLinear::detachUnmerged);
    unmergedAttached = false;
  }

  /**
   * Runs sample i of the next forward passes with {@code perSample.get(i)} unmerged (null: the base
   * model alone) until the returned handle is closed; the base weights must be in place.
   */
  public PerSampleAdapters attachPerSample(List<LoadedAdapter> perSample) {
    if (merged != null) {
      throw new IllegalStateException(
          "adapter " + merged.id() + " is merged; restore the base model before running unmerged");
    }
    return new PerSampleAdapters(linears, perSample, manager);
  }

  private static NDArray delta(NDArray[] ab, float scale, NDArray like) {
    NDArray s = like.getManager().create(scale);
    NDArray d = ab[1].matMul(ab[0]).mul(s);
    s.close();
    return d;
  }

  /**
   * Largest absolute difference between the live weights and the pristine base (0 when restored
   * exactly).
   */
  public float driftFromBase() {
    float max = 0;
    try (NDScope scope = new NDScope()) {
      for (var e : pristine.entrySet()) {
        NDArray w = linears.get(e.getKey()).weight().getArray();
        max = Math.max(max, w.sub(e.getValue()).abs().max().getFloat());
      }
      scope.suppressNotUsedWarning();
    }
    return max;
  }

  @Override
  public void close() {
    manager.close();
  }
}
