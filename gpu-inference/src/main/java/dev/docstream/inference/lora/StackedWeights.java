package dev.docstream.inference.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link MergeEngine.Kernel#STACKED}'s layout: the model's linear layers grouped by weight shape,
 * the pristine weights of each group one contiguous block, and a merge as one batched matmul and
 * one addition per group.
 */
final class StackedWeights {
  private final Map<String, List<String>> groups = new LinkedHashMap<>();
  private final Map<String, NDArray> blocks = new LinkedHashMap<>();

  /**
   * Builds the pristine blocks under {@code manager}; each module's pristine view goes into map.
   */
  StackedWeights(
      Map<String, LoraLinear> linears, NDManager manager, Map<String, NDArray> pristine) {
    linears.forEach(
        (path, layer) ->
            groups
                .computeIfAbsent(
                    layer.outFeatures() + "x" + layer.inFeatures(), k -> new ArrayList<>())
                .add(path));
    groups.forEach(
        (shape, paths) -> {
          NDList weights = new NDList();
          paths.forEach(p -> weights.add(linears.get(p).weight().getArray()));
          NDArray block = NDArrays.stack(weights);
          block.attach(manager);
          blocks.put(shape, block);
          for (int i = 0; i < paths.size(); i++) {
            NDArray view = block.get(i);
            view.attach(manager);
            pristine.put(paths.get(i), view);
          }
        });
  }

  /**
   * Puts {@code W0 + (s B) A} into {@code next}, as views of one new block per group, for every
   * group {@code adapter} covers whole with one rank (the caller does the other modules).
   *
   * @param check whether to check the merged weights are finite
   * @return the first module whose merged weight is not finite, or null
   */
  String write(LoadedAdapter adapter, Map<String, NDArray> next, boolean check) {
    String overflowed = null;
    for (var g : groups.entrySet()) {
      NDArray[] stack = adapter.stacked(g.getValue());
      if (stack == null) {
        continue;
      }
      NDArray s = stack[1].getManager().create(adapter.scale());
      NDArray block = blocks.get(g.getKey()).add(stack[1].mul(s).matMul(stack[0]));
      boolean finite = !check || MergeEngine.allFinite(block);
      for (int i = 0; i < g.getValue().size(); i++) {
        NDArray view = block.get(i);
        if (!finite && overflowed == null && !MergeEngine.allFinite(view)) {
          overflowed = g.getValue().get(i);
        }
        next.put(g.getValue().get(i), view);
      }
    }
    return overflowed;
  }
}
