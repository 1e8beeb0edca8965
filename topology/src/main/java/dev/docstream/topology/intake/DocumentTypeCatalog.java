package dev.docstream.topology.intake;

import java.util.Set;

/**
 * Which document types intake accepts. In production the adapters registry answers (a type with a
 * promoted adapter is served, one whose promoted adapter was retired is retired), read afresh for
 * every job, so a type published while intake runs is accepted from then on; tests and fixed
 * deployments use a static set ({@code intake.document.types}).
 */
public interface DocumentTypeCatalog {
  /** A document type's standing. */
  enum Status {
    /** Has an adapter: jobs are accepted. */
    SERVED,
    /** Never had one: UNKNOWN_DOC_TYPE. */
    UNKNOWN,
    /** Had one, retired: DOCUMENT_TYPE_RETIRED. */
    RETIRED
  }

  Status status(String documentType);

  /** A fixed set of served types. */
  static DocumentTypeCatalog of(Set<String> types) {
    Set<String> served = Set.copyOf(types);
    return type -> served.contains(type) ? Status.SERVED : Status.UNKNOWN;
  }
}
