package dev.docstream.schemas.registry;

import org.apache.avro.Schema;

/**
 * The subset of a Confluent-compatible schema registry DocStream needs. Implementations cache ids
 * and schemas: a registry is asked once per schema, not once per record.
 */
public interface SchemaRegistry extends AutoCloseable {

  /** Registers a schema under a subject (or finds it already there) and returns its global id. */
  int register(String subject, Schema schema);

  /** The schema with a global id. */
  Schema getById(int id);

  /** Whether a schema may be registered under a subject given the subject's compatibility level. */
  boolean isCompatible(String subject, Schema schema);

  @Override
  default void close() {}
}
