package dev.docstream.inference.adapter;

import ai.djl.ndarray.NDManager;
import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoadedAdapter;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * Adapters in memory, least recently used evicted first, bounded in bytes. Reading and validating
 * files (the slow part) can run ahead on a background thread ({@link #prefetch}) while the
 * inference thread works on the current group; uploading to the device happens on the inference
 * thread in {@link #get}, so device memory is only touched by its owner.
 */
public final class AdapterCache implements AutoCloseable {
  /** A lookup's outcome: the adapter, or why there is none. */
  public record Lookup(LoadedAdapter adapter, boolean hit, String failure) {
    public boolean found() {
      return adapter != null;
    }
  }

  private final AdapterStore store;
  private final NDManager manager;
  private final long maxBytes;
  private final Predicate<LoadedAdapter> pinned;
  private final LinkedHashMap<String, LoadedAdapter> loaded = new LinkedHashMap<>(16, 0.75f, true);
  private final Map<String, CompletableFuture<Optional<PeftAdapter>>> reading =
      new ConcurrentHashMap<>();
  private final ExecutorService reader =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "adapter-prefetch");
            t.setDaemon(true);
            return t;
          });

  /** Store keys whose adapter was found unusable after loading, with why and since when. */
  private final Map<String, Invalid> invalid = new ConcurrentHashMap<>();

  private final java.time.Duration invalidFor;
  private long bytes;

  private record Invalid(String reason, long sinceNanos) {}

  /**
   * @param manager where adapters are uploaded (the model's manager)
   * @param maxBytes the byte budget; the least recently used adapters are closed beyond it
   * @param pinned adapters that must not be evicted (the merged one)
   */
  public AdapterCache(
      AdapterStore store, NDManager manager, long maxBytes, Predicate<LoadedAdapter> pinned) {
    this(store, manager, maxBytes, pinned, java.time.Duration.ofMinutes(5));
  }

  /**
   * @param invalidFor how long an adapter marked invalid ({@link #markInvalid}) is refused before
   *     its files are read again (a fixed adapter is then picked up)
   */
  public AdapterCache(
      AdapterStore store,
      NDManager manager,
      long maxBytes,
      Predicate<LoadedAdapter> pinned,
      java.time.Duration invalidFor) {
    this.invalidFor = invalidFor;
    this.store = store;
    this.manager = manager;
    this.maxBytes = maxBytes;
    this.pinned = pinned;
  }

  /** Starts reading an adapter's files in the background if it is not in memory. */
  public void prefetch(String key) {
    synchronized (this) {
      if (loaded.containsKey(key)) {
        return;
      }
    }
    reading.computeIfAbsent(key, t -> CompletableFuture.supplyAsync(() -> read(t), reader));
  }

  /** The adapter of a store key, loading it if needed. */
  public synchronized Lookup get(String key) {
    Invalid bad = invalid.get(key);
    if (bad != null) {
      if (System.nanoTime() - bad.sinceNanos() < invalidFor.toNanos()) {
        return new Lookup(null, false, bad.reason());
      }
      invalid.remove(key);
    }
    LoadedAdapter a = loaded.get(key);
    if (a != null) {
      return new Lookup(a, true, null);
    }
    Optional<PeftAdapter> files;
    try {
      CompletableFuture<Optional<PeftAdapter>> pending = reading.remove(key);
      files = pending != null ? pending.get() : read(key);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof ReadFailure rf ? rf.getCause() : e.getCause();
      return new Lookup(null, false, cause.getMessage());
    } catch (ReadFailure e) {
      return new Lookup(null, false, e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Lookup(null, false, "interrupted loading the adapter");
    }
    if (files.isEmpty()) {
      return new Lookup(null, false, null);
    }
    var config = files.get().config();
    a =
        new LoadedAdapter(
            key, config.documentType() + "@" + config.version(), files.get(), manager);
    loaded.put(key, a);
    bytes += a.sizeBytes();
    evict(a);
    return new Lookup(a, false, null);
  }

  private Optional<PeftAdapter> read(String key) {
    try {
      return store.load(key);
    } catch (AdapterFormatException e) {
      throw new ReadFailure(e);
    }
  }

  /**
   * Closes the least recently used adapters beyond the budget, never a pinned one nor {@code
   * loading}, the one being handed out (when every other is pinned, the cache stays over budget).
   */
  private void evict(LoadedAdapter loading) {
    for (Iterator<LoadedAdapter> it = loaded.values().iterator();
        it.hasNext() && bytes > maxBytes; ) {
      LoadedAdapter a = it.next();
      if (a != loading && !pinned.test(a)) {
        it.remove();
        bytes -= a.sizeBytes();
        a.close();
      }
    }
  }

  /**
   * Refuses an adapter (by store key) for a while: it loaded but cannot be used (its merged weights
   * or its outputs are not finite). It is dropped from memory; the caller must not have it merged.
   */
  public synchronized void markInvalid(String key, String reason) {
    invalid.put(key, new Invalid(reason, System.nanoTime()));
    LoadedAdapter a = loaded.remove(key);
    if (a != null) {
      bytes -= a.sizeBytes();
      a.close();
    }
  }

  /** Bytes of adapters held. */
  public synchronized long bytes() {
    return bytes;
  }

  /** Bytes of the adapters held for one document type (any version). */
  public synchronized long bytesOfType(String documentType) {
    long n = 0;
    for (LoadedAdapter a : loaded.values()) {
      if (a.id().startsWith(documentType + "@")) {
        n += a.sizeBytes();
      }
    }
    return n;
  }

  /** Adapters held. */
  public synchronized int size() {
    return loaded.size();
  }

  @Override
  public synchronized void close() {
    reader.shutdownNow();
    loaded.values().forEach(LoadedAdapter::close);
    loaded.clear();
  }

  /** Carries a format error out of the prefetch thread. */
  private static final class ReadFailure extends RuntimeException {
    ReadFailure(AdapterFormatException cause) {
      super(cause);
    }
  }
}
