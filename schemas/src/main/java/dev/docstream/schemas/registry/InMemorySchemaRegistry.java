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
 * one JVM, as Confluent's serdes do. Used by the embedded mode and by tests; BACKWARD compatibility
 * is enforced per subject, as the real registry does by default.
 *
 * <p>With a {@link SchemaJournal} ({@link #persistent}) every change is committed to the cluster
 * before it is applied, and a registry started on the same cluster later replays it: the embedded
 * mode's schema ids survive restarts, as Confluent's do.
 */
public final class InMemorySchemaRegistry implements SchemaRegistry {
  private static final Map<String, InMemorySchemaRegistry> SCOPES = new ConcurrentHashMap<>();

  private final Map<Integer, Schema> byId = new HashMap<>();
  private final Map<String, Integer> idByCanonical = new HashMap<>();
  private final Map<String, List<Integer>> subjects = new HashMap<>();
  private final Map<String, String> compatibility = new HashMap<>();
  private final SchemaJournal journal;
  private int nextId = 1;

  private InMemorySchemaRegistry(SchemaJournal journal) {
    this.journal = journal;
    if (journal != null) {
      journal.history().forEach(this::apply);
    }
  }

  /** A registry that journals its changes, with the journal's history already applied. */
  public static InMemorySchemaRegistry persistent(SchemaJournal journal) {
    return new InMemorySchemaRegistry(journal);
  }

  /**
   * Makes {@code registry} the one {@code mock://<scope>} names in this JVM (replacing any). The
   * embedded stack installs its persistent registry this way, so in-process clients find it.
   */
  public static void install(String scope, InMemorySchemaRegistry registry) {
    SCOPES.put(scope, registry);
  }

  /** The registry of a scope, created on first use. */
  public static InMemorySchemaRegistry scope(String scope) {
    return SCOPES.computeIfAbsent(scope, s -> new InMemorySchemaRegistry(null));
  }

  /** Forgets a scope (tests call this to start clean). */
  public static void dropScope(String scope) {
    SCOPES.remove(scope);
  }

  @Override
  public synchronized int register(String subject, Schema schema) {
    List<Integer> versions = subjects.getOrDefault(subject, List.of());
    String canonical = schema.toString();
    Integer existing = idByCanonical.get(canonical);
    if (existing != null && versions.contains(existing)) {
      return existing;
    }
    if (!isCompatible(subject, schema)) {
      throw new SchemaRegistryException(
          409, 409, "schema is incompatible with the latest version of subject " + subject, null);
    }
    int id = existing != null ? existing : nextId;
    SchemaJournal.SchemaEntry entry =
        new SchemaJournal.SchemaEntry(subject, versions.size() + 1, id, schema);
    if (journal != null) {
      journal.append(entry); // committed before anyone is told the id
    }
    apply(entry);
    return id;
  }

  private void apply(SchemaJournal.Entry entry) {
    if (entry instanceof SchemaJournal.SchemaEntry s) {
      byId.put(s.id(), s.schema());
      idByCanonical.putIfAbsent(s.schema().toString(), s.id());
      List<Integer> versions = subjects.computeIfAbsent(s.subject(), k -> new ArrayList<>());
      if (!versions.contains(s.id())) {
        versions.add(s.id());
      }
      nextId = Math.max(nextId, s.id() + 1);
    } else if (entry instanceof SchemaJournal.ConfigEntry c) {
      compatibility.put(c.subject(), c.compatibility());
    }
  }

  @Override
  public synchronized Schema getById(int id) {
    Schema s = byId.get(id);
    if (s == null) {
      throw new SchemaRegistryException(
          404, SchemaRegistryException.SCHEMA_NOT_FOUND, "schema id " + id + " not found", null);
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
    SchemaJournal.ConfigEntry entry = new SchemaJournal.ConfigEntry(subject, level);
    if (journal != null) {
      journal.append(entry);
    }
    apply(entry);
  }

  /** A subject's compatibility level. */
  public synchronized String compatibility(String subject) {
    return compatibility.getOrDefault(subject, "BACKWARD");
  }
}
