package dev.docstream.inference.adapter;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.registry.AdapterId;
import dev.docstream.adapters.registry.BlobStore;
import dev.docstream.adapters.registry.Blobs;
import dev.docstream.adapters.registry.ManifestView;
import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.adapters.registry.TypeState;
import dev.docstream.schemas.AdapterStatus;
import dev.docstream.schemas.AdapterVersion;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adapters as the registry says: each job goes to its type's promoted version, or to the canary for
 * the canary's share of job ids. Keys are adapter ids ({@code T@v}), so a new version is a new
 * cache entry and never a stale one.
 *
 * <p>A new version is fetched and verified (checksums against the manifest, then the PEFT checks
 * against the base model) on a background thread while the version before it keeps serving; jobs
 * switch once it is verified, at the next poll. A version that fails is refused, logged once with
 * its adapter id, and its type keeps being served by the last good version. Only a type that never
 * had a good version on this worker fails its jobs (ADAPTER_INVALID).
 */
public final class RegistryAdapterStore implements AdapterStore, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryAdapterStore.class);

  /** Observes verification, for metrics. */
  public interface Listener {
    default void verified(String documentType, String adapterId, long nanos) {}

    default void refused(String documentType, String adapterId, String reason) {}
  }

  /** Verified adapters kept for their first load, at most. */
  private static final int MAX_READY = 32;

  private record Verdict(boolean ok, String reason) {}

  private final ManifestView view;
  private final BlobStore blobs;
  private final String baseSha256;
  private final Map<String, int[]> moduleShapes;
  private final Listener listener;
  private final Map<String, Verdict> verdicts = new ConcurrentHashMap<>();
  private final Map<String, PeftAdapter> ready = new ConcurrentHashMap<>();
  private final Map<String, Integer> lastGood = new ConcurrentHashMap<>();
  private final Set<String> verifying = ConcurrentHashMap.newKeySet();
  private final ExecutorService verifier =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "adapter-verify");
            t.setDaemon(true);
            return t;
          });

  public RegistryAdapterStore(
      ManifestView view,
      BlobStore blobs,
      String baseSha256,
      Map<String, int[]> moduleShapes,
      Listener listener) {
    this.view = view;
    this.blobs = blobs;
    this.baseSha256 = baseSha256;
    this.moduleShapes = Map.copyOf(moduleShapes);
    this.listener = listener;
    view.onChange(this::verifyAhead);
  }

  @Override
  public Route route(String documentType, String jobId) {
    TypeState state = view.type(documentType);
    Integer target = state.route(jobId);
    if (target == null) {
      return Route.NONE;
    }
    String id = new AdapterId(documentType, target).toString();
    Verdict verdict = verdicts.get(id);
    Integer good = lastGood.get(documentType);
    if (good != null && !usable(state, good)) {
      lastGood.remove(documentType, good); // retired since
      good = null;
    }
    if (verdict != null && verdict.ok()) {
      if (target.equals(state.promoted())) {
        lastGood.put(documentType, target);
      }
      return Route.of(id);
    }
    if (verdict != null) {
      return good != null && !good.equals(target)
          ? Route.of(new AdapterId(documentType, good).toString())
          : Route.refused(verdict.reason());
    }
    if (good != null && !good.equals(target)) {
      verifyAsync(documentType, target); // the last good version serves until this one is checked
      return Route.of(new AdapterId(documentType, good).toString());
    }
    return Route.of(id); // nothing served this type before: load (and verify) it now
  }

  private static boolean usable(TypeState state, int version) {
    return state.version(version).map(v -> v.getStatus() != AdapterStatus.RETIRED).orElse(false);
  }

  @Override
  public Optional<PeftAdapter> load(String key) throws AdapterFormatException {
    PeftAdapter verified = ready.remove(key);
    if (verified != null) {
      return Optional.of(verified);
    }
    AdapterId id;
    try {
      id = AdapterId.parse(key);
    } catch (RegistryException e) {
      return Optional.empty();
    }
    Optional<AdapterVersion> version = view.type(id.documentType()).version(id.version());
    if (version.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(verify(id, version.get()));
  }

  /** Fetches and checks a version; records the verdict either way. */
  private PeftAdapter verify(AdapterId id, AdapterVersion v) throws AdapterFormatException {
    long t0 = System.nanoTime();
    try {
      Path dir;
      try {
        dir = blobs.fetch(v.getBlobUri());
      } catch (IOException e) {
        throw new AdapterFormatException(Path.of(v.getBlobUri()), "cannot be fetched: " + e, e);
      }
      Blobs.verify(dir, v.getBlobSha256(), v.getConfigSha256());
      PeftAdapter adapter = PeftAdapter.read(dir, baseSha256, moduleShapes);
      if (adapter.config().version() != id.version()
          || !adapter.config().documentType().equals(id.documentType())) {
        throw new AdapterFormatException(
            dir, "holds " + adapter.config().documentType() + "@" + adapter.config().version());
      }
      verdicts.put(id.toString(), new Verdict(true, null));
      listener.verified(id.documentType(), id.toString(), System.nanoTime() - t0);
      return adapter;
    } catch (AdapterFormatException e) {
      refused(id.toString(), e.getMessage());
      throw e;
    }
  }

  @Override
  public void refused(String key, String reason) {
    Verdict before = verdicts.put(key, new Verdict(false, reason));
    try {
      AdapterId id = AdapterId.parse(key);
      lastGood.remove(id.documentType(), id.version());
      if (before == null || before.ok()) {
        LOG.warn(
            "adapter {} refused; its type keeps its last good version where this worker has one:"
                + " {}",
            key,
            reason);
        listener.refused(id.documentType(), key, reason);
      }
    } catch (RegistryException e) {
      // not a registry key: nothing to fall back to
    }
  }

  /** On a manifest change: fetch and verify the type's new promoted and canary versions. */
  private void verifyAhead(TypeState state) {
    for (Integer v : new Integer[] {state.promoted(), state.canary()}) {
      if (v != null) {
        verifyAsync(state.documentType(), v);
      }
    }
  }

  private void verifyAsync(String documentType, int version) {
    String key = new AdapterId(documentType, version).toString();
    if (verdicts.containsKey(key) || !verifying.add(key)) {
      return;
    }
    verifier.execute(
        () -> {
          try {
            Optional<AdapterVersion> v = view.type(documentType).version(version);
            if (v.isPresent() && !verdicts.containsKey(key)) {
              PeftAdapter adapter = verify(new AdapterId(documentType, version), v.get());
              if (ready.size() < MAX_READY) {
                ready.put(key, adapter); // else load() reads it again
              }
            }
          } catch (AdapterFormatException e) {
            // recorded as refused
          } catch (RuntimeException e) {
            refused(key, e.toString());
          } finally {
            verifying.remove(key);
          }
        });
  }

  @Override
  public Set<String> documentTypes() {
    return view.servedTypes();
  }

  @Override
  public void close() {
    verifier.shutdownNow();
  }
}
