package dev.docstream.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A registry in memory, shared by every client that names the same {@code mock://<scope>} URL in
 * one JVM, as Confluent's serdes do. Used by the embedded mode and by tests; BACKWARD
 * compatibility is enforced per subject, as the real registry does by default.
 */
public final class InMemorySchemaRegistry implements SchemaRegistry {
  private static final Map<String, InMemorySchemaRegistry> SCOPES = new ConcurrentHashMap<>();

  private final Map<Integer, Schema> byId = new HashMap<>();
  private final Map<String, Integer> idByCanonical = new HashMap<>();
  private final Map<String, List<Integer>> subjects = new HashMap<>();
  private final Map<String, String> compatibility = new HashMap<>();
  private int nextId = 1;

  /** The registry of a scope, created on first use. */
  public static InMemorySchemaRegistry scope(String scope) {
    return SCOPES.computeIfAbsent(scope, s -> new InMemorySchemaRegistry());
  }

  /** Forgets a scope (tests call this to start clean). */
  public static void dropScope(String scope) {
    SCOPES.remove(scope);
  }

  @Override
  public synchronized int register(String subject, Schema schema) {
    List<Integer> versions = subjects.computeIfAbsent(subject, s -> new ArrayList<>());
    String canonical = schema.toString();
    Integer existing = idByCanonical.get(canonical);
    if (existing != null && versions.contains(existing)) {
      return existing;
    }
    if (!isCompatible(subject, schema)) {
      throw new SchemaRegistryException(409, 409,
          "schema is incompatible with the latest version of subject " + subject, null);
    }
    int id = existing != null ? existing : nextId++;
    byId.put(id, schema);
    idByCanonical.put(canonical, id);
    versions.add(id);
    return id;
  }

  @Override
  public synchronized Schema getById(int id) {
    Schema s = byId.get(id);
    if (s == null) {
      throw new SchemaRegistryException(404, SchemaRegistryException.SCHEMA_NOT_FOUND,
          "schema id " + id + " not found", null);
    }
    return s;
  }

  @Override
  public synchronized boolean isCompatible(String subject, Schema schema) {
    List<Integer> versions = subjects.getOrDefault(subject, List.of());
    String level = compatibility.getOrDefault(subject, "BACKWARD");
    if (versions.isEmpty() || level.equals("NONE")) {
      return true;
    }
    Schema latest = byId.get(versions.get(versions.size() - 1));
    return SchemaCompatibility.checkReaderWriterCompatibility(schema, latest).getType()
        == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
  }

  /** The subjects, for the embedded HTTP face of this registry. */
  public synchronized List<String> subjects() {
    return new ArrayList<>(subjects.keySet());
  }

  /** The schema ids of a subject's versions, oldest first; empty when unknown. */
  public synchronized List<Integer> versions(String subject) {
    return List.copyOf(subjects.getOrDefault(subject, List.of()));
  }

  /** Sets a subject's compatibility level (BACKWARD or NONE are enforced). */
  public synchronized void setCompatibility(String subject, String level) {
    compatibility.put(subject, level);
  }

  /** A subject's compatibility level. */
  public synchronized String compatibility(String subject) {
    return compatibility.getOrDefault(subject, "BACKWARD");
  }
}
