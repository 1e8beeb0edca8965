package dev.docstream.inference.worker;

import dev.docstream.inference.adapter.RegistryAdapterStore;
import dev.docstream.inference.engine.ExtractionEngine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Per-adapter metrics with bounded tags: loads (fetch and verification), their time, validation
 * failures, resident bytes and where each type's adapter resides ({@code where="model"}: merged
 * now; {@code "cache"}: in the adapter cache; both 0: not loaded). The {@code type} tag is one of
 * the configured document types, or one of the first {@code topK} types this worker served when
 * none are configured; every other type is tagged {@code other}.
 */
public final class AdapterMetrics implements RegistryAdapterStore.Listener {
  private static final String OTHER = "other";

  private final MeterRegistry registry;
  private final Set<String> configured;
  private final int topK;
  private final Map<String, Boolean> tagged = new ConcurrentHashMap<>();
  private volatile Supplier<ExtractionEngine> engine = () -> null;

  public AdapterMetrics(MeterRegistry registry, List<String> configuredTypes, int topK) {
    this.registry = registry;
    this.configured = Set.copyOf(configuredTypes);
    this.topK = topK;
    configured.forEach(this::register);
  }

  /** Where residency and bytes are read from (set once the engine exists). */
  public void watch(ExtractionEngine e) {
    this.engine = () -> e;
  }

  /** The bounded tag of a document type. */
  String tag(String documentType) {
    if (tagged.containsKey(documentType)) {
      return documentType;
    }
    if (configured.isEmpty() && tagged.size() < topK) {
      synchronized (this) {
        if (tagged.size() < topK && !tagged.containsKey(documentType)) {
          register(documentType);
        }
      }
      return tagged.containsKey(documentType) ? documentType : OTHER;
    }
    return OTHER;
  }

  private void register(String type) {
    tagged.put(type, true);
    Gauge.builder("docstream.worker.adapter.resident", () -> residency(type, true))
        .description("1 when the type's adapter is merged into the model's weights now")
        .tags("type", type, "where", "model")
        .register(registry);
    Gauge.builder("docstream.worker.adapter.resident", () -> residency(type, false))
        .description("1 when a version of the type's adapter is in the adapter cache")
        .tags("type", type, "where", "cache")
        .register(registry);
    Gauge.builder("docstream.worker.adapter.resident.bytes", () -> bytes(type))
        .description("Bytes of the type's adapter versions held in the adapter cache")
        .baseUnit("bytes")
        .tags("type", type)
        .register(registry);
  }

  private double residency(String type, boolean model) {
    ExtractionEngine e = engine.get();
    if (e == null) {
      return 0;
    }
    String merged = e.mergedAdapter();
    boolean inModel = merged != null && merged.startsWith(type + "@");
    return model ? (inModel ? 1 : 0) : (e.cache().bytesOfType(type) > 0 ? 1 : 0);
  }

  private double bytes(String type) {
    ExtractionEngine e = engine.get();
    return e == null ? 0 : e.cache().bytesOfType(type);
  }

  @Override
  public void verified(String documentType, String adapterId, long nanos) {
    String type = tag(documentType);
    Counter.builder("docstream.worker.adapter.loads")
        .description("Adapter versions fetched and verified")
        .tag("type", type)
        .register(registry)
        .increment();
    Timer.builder("docstream.worker.adapter.load.time")
        .description("Time to fetch, checksum and validate an adapter version")
        .tag("type", type)
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void refused(String documentType, String adapterId, String reason) {
    Counter.builder("docstream.worker.adapter.validation.failures")
        .description("Adapter versions refused: checksum mismatch, corrupt or unusable files")
        .tag("type", tag(documentType))
        .register(registry)
        .increment();
  }

  /** Validation failures so far, all types. */
  public double validationFailures() {
    return registry.find("docstream.worker.adapter.validation.failures").counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}
