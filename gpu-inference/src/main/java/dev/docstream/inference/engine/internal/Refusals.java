package dev.docstream.inference.engine.internal;

import dev.docstream.inference.adapter.AdapterCache;
import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.schemas.errors.ResultReason;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's refusals of adapters: an adapter refused is marked invalid in the cache (for a
 * while), its store is told, and the refusal is logged once per document type and reason, not per
 * job. Owned by the engine's thread.
 */
public final class Refusals {
  private static final Logger LOG = LoggerFactory.getLogger(Refusals.class);

  private final AdapterCache cache;
  private final AdapterStore store;

  /** The last refusal logged per document type. */
  private final Map<String, String> logged = new HashMap<>();

  public Refusals(AdapterCache cache, AdapterStore store) {
    this.cache = cache;
    this.store = store;
  }

  /** Marks an adapter invalid (for a while), tells its store, and says so once. */
  public void refuse(String documentType, String key, String reason) {
    cache.markInvalid(key, reason);
    store.refused(key, reason);
    log(documentType, reason);
  }

  /** Says once that a type's jobs fail as ADAPTER_INVALID, and why. */
  public void log(String documentType, String reason) {
    if (!reason.equals(logged.put(documentType, reason))) {
      LOG.warn(
          "adapter for {} refused; its jobs fail as {}: {}",
          documentType,
          ResultReason.ADAPTER_INVALID.name(),
          reason);
    }
  }
}
