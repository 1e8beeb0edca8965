package dev.docstream.adapters.registry;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.schemas.AdapterManifest;
import dev.docstream.schemas.AdapterStatus;
import dev.docstream.schemas.AdapterVersion;
import dev.docstream.schemas.serde.AvroSerde;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The operator's side of the registry: publish, canary, promote, roll back and retire adapter
 * versions. Each change reads the type's latest manifest, applies {@link TypeState}'s rules and
 * writes the next manifest; blobs go to the {@link BlobStore} before their manifest names them.
 */
public final class AdapterRegistry implements AutoCloseable {
  /** The evaluation figure the publish gate compares. */
  public static final String EXACT_MATCH = "field_exact_match";

  /** Scores an adapter on held-out documents of its type: field exact-match in [0, 1]. */
  public interface Evaluator {
    double fieldExactMatch(PeftAdapter adapter) throws IOException;
  }

  /**
   * What to publish and how to check it.
   *
   * @param folder the PEFT folder
   * @param documentType the type, where the config has no {@code docstream_document_type}; null to
   *     take the config's
   * @param baseModelId the base model's id, recorded in the manifest
   * @param baseSha256 the base weights' checksum: the adapter must name it, or it is recorded
   * @param moduleShapes the base model's adaptable modules
   * @param maxBytes the largest weights file accepted
   * @param evaluator the evaluation gate's scorer; null to skip the gate
   * @param margin how far below the promoted version's exact-match a new version may score
   * @param force publish even when the gate refuses
   */
  public record PublishRequest(
      Path folder,
      String documentType,
      String baseModelId,
      String baseSha256,
      Map<String, int[]> moduleShapes,
      long maxBytes,
      Evaluator evaluator,
      double margin,
      boolean force) {}

  private final ManifestLog log;
  private final BlobStore blobs;
  private final Clock clock;

  /**
   * Every type's latest manifest, read once: this registry is the only writer from its opening on
   * (a later one fences it, and then its writes fail), so what it wrote is what the topic holds.
   */
  private Map<String, AdapterManifest> latest;

  private AdapterRegistry(ManifestLog log, BlobStore blobs, Clock clock) {
    this.log = log;
    this.blobs = blobs;
    this.clock = clock;
  }

  /** Opens the registry for changes (taking the writer's role, see {@link ManifestLog}). */
  public static AdapterRegistry open(
      Map<String, Object> clientProps,
      String topic,
      AvroSerde<AdapterManifest> serde,
      BlobStore blobs,
      Clock clock)
      throws RegistryException {
    return new AdapterRegistry(ManifestLog.open(clientProps, topic, serde), blobs, clock);
  }

  /** Opens the registry for reading (list, show, history): takes no writer's role. */
  public static AdapterRegistry openReader(
      Map<String, Object> clientProps,
      String topic,
      AvroSerde<AdapterManifest> serde,
      BlobStore blobs,
      Clock clock) {
    return new AdapterRegistry(ManifestLog.openReader(clientProps, topic, serde), blobs, clock);
  }

  /** Every type's state, by type. */
  public Map<String, TypeState> list() throws RegistryException {
    Map<String, TypeState> out = new TreeMap<>();
    latest().forEach((type, m) -> out.put(type, TypeState.of(m)));
    return out;
  }

  /** One type's state. */
  public TypeState show(String documentType) throws RegistryException {
    AdapterManifest m = latest().get(documentType);
    if (m == null) {
      throw new RegistryException("no adapter was published for " + documentType);
    }
    return TypeState.of(m);
  }

  /** One type's manifests, oldest first (the audit log, as far as compaction kept it). */
  public List<AdapterManifest> history(String documentType) throws RegistryException {
    return log.history(documentType);
  }

  /**
   * Validates and publishes a new version of an adapter: checks the files (size, JSON, shapes
   * against the base model, finite values, base checksum), runs the evaluation gate against the
   * promoted version on the same documents, stores the blob and writes the manifest.
   *
   * @return the written manifest
   * @throws RegistryException naming the file and the problem, or the gate's figures
   */
  public AdapterManifest publish(PublishRequest req) throws RegistryException {
    Path weights = req.folder().resolve(PeftAdapter.WEIGHTS);
    if (!Files.isRegularFile(weights)) {
      throw new RegistryException(
          weights
              + ": missing (a PEFT folder holds "
              + AdapterConfig.FILE
              + " and "
              + PeftAdapter.WEIGHTS
              + ")");
    }
    try {
      long size = Files.size(weights);
      if (size > req.maxBytes()) {
        throw new RegistryException(
            weights + ": " + size + " bytes, over the limit of " + req.maxBytes() + " bytes");
      }
    } catch (IOException e) {
      throw new RegistryException(weights + ": cannot be read: " + e.getMessage(), e);
    }
    PeftAdapter adapter;
    try {
      adapter =
          PeftAdapter.read(
              req.folder(),
              req.baseSha256(),
              req.moduleShapes(),
              new AdapterConfig.Defaults(req.documentType(), req.baseSha256()));
    } catch (AdapterFormatException e) {
      throw new RegistryException(e.getMessage(), e);
    }
    String type = adapter.config().documentType();
    if (req.documentType() != null && !req.documentType().equals(type)) {
      throw new RegistryException(
          req.folder().resolve(AdapterConfig.FILE)
              + ": docstream_document_type is "
              + type
              + " but the command names "
              + req.documentType());
    }
    try {
      new AdapterId(type, 1);
    } catch (IllegalArgumentException e) {
      throw new RegistryException(
          "'" + type + "' is not a usable document type: " + e.getMessage());
    }
    TypeState state = stateOf(type);
    int version = state.nextVersion();
    Map<String, Double> metrics = new TreeMap<>();
    if (req.evaluator() != null) {
      metrics.put(EXACT_MATCH, gate(req, state, adapter, new AdapterId(type, version)));
    }
    PeftAdapter normalised =
        new PeftAdapter(
            adapter.config().withIdentity(type, req.baseSha256(), version), adapter.modules());
    BlobStore.StoredBlob blob;
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("docstream-publish-");
      normalised.write(tmp);
      blob = blobs.put(tmp);
    } catch (IOException e) {
      throw new RegistryException("could not store the adapter's blob: " + e.getMessage(), e);
    } finally {
      deleteQuietly(tmp);
    }
    AdapterVersion v =
        AdapterVersion.newBuilder()
            .setVersion(version)
            .setBaseModelId(req.baseModelId())
            .setBaseModelSha256(req.baseSha256())
            .setRank(adapter.config().rank())
            .setAlpha(adapter.config().alpha())
            .setTargetModules(adapter.config().targetModules())
            .setBlobUri(blob.uri())
            .setBlobSha256(blob.weightsSha256())
            .setConfigSha256(blob.configSha256())
            .setSizeBytes(blob.sizeBytes())
            .setStatus(AdapterStatus.CANDIDATE)
            .setCreatedAt(clock.instant())
            .setMetrics(metrics)
            .build();
    return write(state.publish(v, clock.instant()));
  }

  /** Scores the new version and the promoted one on the same documents; refuses a worse one. */
  private double gate(PublishRequest req, TypeState state, PeftAdapter adapter, AdapterId id)
      throws RegistryException {
    double score;
    Double promotedScore = null;
    try {
      score = req.evaluator().fieldExactMatch(adapter);
      if (state.promoted() != null) {
        AdapterVersion promoted = state.version(state.promoted()).orElseThrow();
        Path dir = blobs.fetch(promoted.getBlobUri());
        Blobs.verify(dir, promoted.getBlobSha256(), promoted.getConfigSha256());
        promotedScore =
            req.evaluator()
                .fieldExactMatch(PeftAdapter.read(dir, req.baseSha256(), req.moduleShapes()));
      }
    } catch (IOException | AdapterFormatException | RuntimeException e) {
      throw new RegistryException("the evaluation gate failed: " + e.getMessage(), e);
    }
    if (promotedScore != null && score < promotedScore - req.margin() && !req.force()) {
      throw new RegistryException(
          String.format(
              Locale.ROOT,
              "%s: %s scores %.4f field exact-match, below the promoted %s@%d's %.4f by more than"
                  + " the margin %.4f; not published (--force publishes it anyway)",
              req.folder(),
              id,
              score,
              id.documentType(),
              state.promoted(),
              promotedScore,
              req.margin()));
    }
    return score;
  }

  /** Serves {@code share} of the type's jobs with this version (0 ends the canary). */
  public AdapterManifest canary(AdapterId id, double share) throws RegistryException {
    return write(stateOf(id.documentType()).canary(id.version(), share, clock.instant()));
  }

  /** Makes this version serve its type. */
  public AdapterManifest promote(AdapterId id) throws RegistryException {
    return write(stateOf(id.documentType()).promote(id.version(), clock.instant()));
  }

  /** Returns the type to its previously promoted version. */
  public AdapterManifest rollback(String documentType) throws RegistryException {
    TypeState state = stateOf(documentType);
    if (state.latest().isEmpty()) {
      throw new RegistryException("no adapter was published for " + documentType);
    }
    return write(state.rollback(clock.instant()));
  }

  /** Retires this version; it never serves again. */
  public AdapterManifest retire(AdapterId id) throws RegistryException {
    return write(stateOf(id.documentType()).retire(id.version(), clock.instant()));
  }

  private TypeState stateOf(String documentType) throws RegistryException {
    AdapterManifest m = latest().get(documentType);
    return m == null ? TypeState.empty(documentType) : TypeState.of(m);
  }

  private Map<String, AdapterManifest> latest() throws RegistryException {
    if (latest == null) {
      latest = new java.util.HashMap<>(log.latest());
    }
    return latest;
  }

  private AdapterManifest write(AdapterManifest m) throws RegistryException {
    log.write(m);
    latest().put(m.getDocumentType(), m);
    return m;
  }

  @Override
  public void close() {
    log.close();
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      // a leftover temporary folder is harmless
    }
  }
}
