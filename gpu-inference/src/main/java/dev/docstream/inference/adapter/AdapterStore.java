package dev.docstream.inference.adapter;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import java.util.Optional;
import java.util.Set;

/** Where a worker finds the adapter that serves a job. */
public interface AdapterStore {

  /**
   * Which adapter serves a job.
   *
   * @param key what {@link #load} and the adapter cache know the adapter by; null when none
   * @param failure why the job's adapter cannot serve (null when it can, or when there is none)
   */
  record Route(String key, String failure) {
    /** The type has no adapter. */
    public static final Route NONE = new Route(null, null);

    public static Route of(String key) {
      return new Route(key, null);
    }

    public static Route refused(String failure) {
      return new Route(null, failure);
    }
  }

  /** The adapter serving a job of a document type (a canary may serve some of its jobs). */
  Route route(String documentType, String jobId);

  /**
   * An adapter by its key, read and validated against the loaded base model, or empty when there is
   * no such adapter.
   *
   * @throws AdapterFormatException when the adapter cannot be used
   */
  Optional<PeftAdapter> load(String key) throws AdapterFormatException;

  /** The document types that have an adapter. */
  Set<String> documentTypes();

  /**
   * Says that an adapter loaded but cannot be used (its merged weights or outputs are not finite):
   * a store that knows an earlier version may route back to it.
   */
  default void refused(String key, String reason) {}
}
