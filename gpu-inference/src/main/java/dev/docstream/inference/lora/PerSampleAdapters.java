package dev.docstream.inference.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A different adapter for every sample of a batch, unmerged: the S-LoRA/Punica way of serving many
 * adapters in one forward pass. Each adapted layer gets the samples' A and B gathered into {@code
 * (n, r, in)} and {@code (n, out, r)} (zeros for a sample without an adapter, or whose adapter
 * leaves the layer alone) and adds {@code s_i B_i (A_i x_i)} with batched matmuls. Close it to
 * detach the adapters and free the gathered matrices. Made by {@link MergeEngine#attachPerSample}.
 */
public final class PerSampleAdapters implements AutoCloseable {
  private final Map<String, LoraLinear> linears;
  private final NDManager manager;

  /**
   * @throws IllegalArgumentException when the adapters' ranks differ
   */
  PerSampleAdapters(
      Map<String, LoraLinear> linears, List<LoadedAdapter> perSample, NDManager parent) {
    this.linears = linears;
    Set<Long> ranks = new HashSet<>();
    for (LoadedAdapter a : perSample) {
      if (a != null) {
        a.modules().values().forEach(ab -> ranks.add(ab[0].getShape().get(0)));
      }
    }
    if (ranks.size() > 1) {
      throw new IllegalArgumentException("per-sample adapters must share one rank, got " + ranks);
    }
    this.manager = parent.newSubManager();
    if (ranks.isEmpty()) {
      return; // every sample on the base model
    }
    try {
      attach(perSample, ranks.iterator().next());
    } catch (RuntimeException e) {
      close(); // never leave some layers attached
      throw e;
    }
  }

  private void attach(List<LoadedAdapter> perSample, long r) {
    float[] scales = new float[perSample.size()];
    for (int i = 0; i < scales.length; i++) {
      scales[i] = perSample.get(i) == null ? 0 : perSample.get(i).scale();
    }
    NDArray s = manager.create(scales);
    linears.forEach(
        (path, layer) -> {
          NDList as = new NDList();
          NDList bs = new NDList();
          boolean any = false;
          for (LoadedAdapter a : perSample) {
            NDArray[] ab = a == null ? null : a.modules().get(path);
            any |= ab != null;
            as.add(ab != null ? ab[0] : manager.zeros(new Shape(r, layer.inFeatures())));
            bs.add(ab != null ? ab[1] : manager.zeros(new Shape(layer.outFeatures(), r)));
          }
          if (any) {
            NDArray a = NDArrays.stack(as);
            NDArray b = NDArrays.stack(bs);
            a.attach(manager);
            b.attach(manager);
            layer.attachMixed(a, b, s);
          }
        });
  }

  @Override
  public void close() {
    linears.values().forEach(LoraLinear::detachMixed);
    manager.close();
  }
}
