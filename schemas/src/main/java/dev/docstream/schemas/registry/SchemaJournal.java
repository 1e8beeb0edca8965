package dev.docstream.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/**
 * Where an {@link InMemorySchemaRegistry} keeps its changes so that they outlive the process (in
 * embedded mode: the cluster's {@code _schemas} topic). An entry is applied only after {@link
 * #append} returned, so an id is never handed out that the journal does not hold.
 */
public interface SchemaJournal {
  /** One change. */
  sealed interface Entry permits SchemaEntry, ConfigEntry {}

  /** Version {@code version} of {@code subject} is the schema with global id {@code id}. */
  record SchemaEntry(String subject, int version, int id, Schema schema) implements Entry {}

  /** {@code subject}'s compatibility level. */
  record ConfigEntry(String subject, String compatibility) implements Entry {}

  /** Every entry committed before this journal was opened, oldest first. */
  List<Entry> history();

  /**
   * Appends an entry and returns once it is durable.
   *
   * @throws SchemaRegistryException when it could not be written
   */
  void append(Entry entry);
}
