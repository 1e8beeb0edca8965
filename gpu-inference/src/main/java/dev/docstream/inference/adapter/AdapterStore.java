package dev.docstream.inference.adapter;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import java.util.Optional;
import java.util.Set;

/** Where a worker finds the adapter of a document type. */
public interface AdapterStore {

  /**
   * The adapter serving a document type, read and validated against the loaded base model, or empty
   * when the type has none.
   *
   * @throws AdapterFormatException when the type has an adapter that cannot be used
   */
  Optional<PeftAdapter> load(String documentType) throws AdapterFormatException;

  /** The document types that have an adapter. */
  Set<String> documentTypes();
}
