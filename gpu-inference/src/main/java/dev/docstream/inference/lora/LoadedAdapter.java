package dev.docstream.inference.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.docstream.adapters.FieldFormat;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import dev.docstream.schemas.DocumentField;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An adapter's A and B matrices on the model's device, ready to merge. Owns its arrays: close it
 * when the adapter cache evicts it.
 */
public final class LoadedAdapter implements AutoCloseable {
  private final String key;
  private final String id;
  private final int version;
  private final float scale;
  private final Map<DocumentField, FieldFormat> fieldFormats;
  private final double confidenceTemperature;
  private final NDManager manager;
  private final Map<String, NDArray[]> modules = new LinkedHashMap<>();
  private final long sizeBytes;
  private final Map<String, NDArray[]> stacks = new java.util.HashMap<>();

  /**
   * Uploads an adapter.
   *
   * @param id a name for logs and metrics, for example {@code GBR-PASSPORT-2015@1}
   * @param parent the manager to allocate under (the model's, so arrays share its device)
   */
  public LoadedAdapter(String id, PeftAdapter adapter, NDManager parent) {
    this(id, id, adapter, parent);
  }

  /**
   * Uploads an adapter known to its store by {@code key}.
   *
   * @param id the adapter's identity, written into results: {@code <document type>@<version>}
   */
  public LoadedAdapter(String key, String id, PeftAdapter adapter, NDManager parent) {
    this.key = key;
    this.id = id;
    this.version = adapter.config().version();
    this.scale = adapter.config().scale();
    this.fieldFormats = adapter.config().fieldFormats();
    this.confidenceTemperature = adapter.config().confidenceTemperature();
    this.manager = parent.newSubManager();
    adapter
        .modules()
        .forEach(
            (module, pair) ->
                modules.put(module, new NDArray[] {upload(pair.a()), upload(pair.b())}));
    this.sizeBytes = adapter.sizeBytes();
  }

  private NDArray upload(Tensor t) {
    long[] shape = new long[t.shape().length];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.shape()[i];
    }
    return manager.create(t.data(), new Shape(shape));
  }

  /** What its store and the adapter cache know it by. */
  public String key() {
    return key;
  }

  /** The adapter's name. */
  public String id() {
    return id;
  }

  /** The adapter's version, from its adapter_config.json. */
  public int version() {
    return version;
  }

  /** The update scale alpha / r. */
  public float scale() {
    return scale;
  }

  /**
   * The printed formats of the document type's fields, from its adapter_config.json (may be empty).
   */
  public Map<DocumentField, FieldFormat> fieldFormats() {
    return fieldFormats;
  }

  /**
   * The temperature that calibrates the confidences of the fields this adapter reads, from its
   * adapter_config.json (1 when it has none).
   */
  public double confidenceTemperature() {
    return confidenceTemperature;
  }

  /** Adapted module path to {A, B}. */
  public Map<String, NDArray[]> modules() {
    return Collections.unmodifiableMap(modules);
  }

  /**
   * The A matrices {@code (n, r, in)} and B matrices {@code (n, out, r)} of {@code modules},
   * stacked in that order, for the merge engine's stacked kernel. Built on first use; the modules'
   * own matrices then become views of the stacks, so the adapter still holds them once. Null when
   * the adapter lacks one of the modules or their ranks differ.
   */
  public NDArray[] stacked(List<String> modules) {
    String key = String.join(",", modules);
    if (stacks.containsKey(key)) {
      return stacks.get(key);
    }
    NDArray[] out = null;
    if (modules.stream().allMatch(this.modules::containsKey)
        && modules.stream().map(m -> this.modules.get(m)[0].getShape()).distinct().count() == 1
        && modules.stream().map(m -> this.modules.get(m)[1].getShape()).distinct().count() == 1) {
      NDList a = new NDList();
      NDList b = new NDList();
      modules.forEach(
          m -> {
            a.add(this.modules.get(m)[0]);
            b.add(this.modules.get(m)[1]);
          });
      NDArray stackedA = NDArrays.stack(a);
      NDArray stackedB = NDArrays.stack(b);
      stackedA.attach(manager);
      stackedB.attach(manager);
      NDScope.unregister(stackedA, stackedB); // kept beyond the merge's scope, closed with us
      for (int i = 0; i < modules.size(); i++) {
        NDArray viewA = stackedA.get(i);
        NDArray viewB = stackedB.get(i);
        viewA.attach(manager);
        viewB.attach(manager);
        NDScope.unregister(viewA, viewB);
        NDArray[] own = this.modules.put(modules.get(i), new NDArray[] {viewA, viewB});
        own[0].close();
        own[1].close();
      }
      out = new NDArray[] {stackedA, stackedB};
    }
    stacks.put(key, out);
    return out;
  }

  /** Bytes of A and B, for the cache's byte budget. */
  public long sizeBytes() {
    return sizeBytes;
  }

  @Override
  public void close() {
    manager.close();
  }

  @Override
  public String toString() {
    return "LoadedAdapter[" + id + ", " + modules.size() + " modules, " + sizeBytes + " bytes]";
  }
}
