package dev.docstream.adapters.registry;

import dev.docstream.schemas.AdapterChange;
import dev.docstream.schemas.AdapterManifest;
import dev.docstream.schemas.AdapterStatus;
import dev.docstream.schemas.AdapterVersion;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One document type's adapters as its latest manifest describes them, and the changes an operator
 * can make: each returns the next manifest, or refuses with a one-line reason. Pure: no Kafka, no
 * files; {@link AdapterRegistry} writes what it returns.
 *
 * <p>The rules: a version is immutable once published; a new upload is the next version. One
 * version is promoted (serves the type), at most one other is a canary (serves a deterministic
 * share, {@link CanarySplit}). Promoting pushes the promoted version onto the history; rollback
 * returns to the last version in the history that is not retired. Retiring the promoted version
 * retires the type: intake then dead-letters its jobs as DOCUMENT_TYPE_RETIRED.
 */
public final class TypeState {
  private final String documentType;
  private final AdapterManifest latest;

  private TypeState(String documentType, AdapterManifest latest) {
    this.documentType = documentType;
    this.latest = latest;
  }

  /** A type's state from its latest manifest. */
  public static TypeState of(AdapterManifest latest) {
    return new TypeState(latest.getDocumentType(), latest);
  }

  /** A type nothing was published for. */
  public static TypeState empty(String documentType) {
    return new TypeState(documentType, null);
  }

  public String documentType() {
    return documentType;
  }

  /** The latest manifest, if any. */
  public Optional<AdapterManifest> latest() {
    return Optional.ofNullable(latest);
  }

  /** Every version, oldest first. */
  public List<AdapterVersion> versions() {
    return latest == null ? List.of() : latest.getVersions();
  }

  public Optional<AdapterVersion> version(int v) {
    return versions().stream().filter(x -> x.getVersion() == v).findFirst();
  }

  /** The promoted version, or null. */
  public Integer promoted() {
    return latest == null ? null : latest.getPromotedVersion();
  }

  /** The canary version, or null. */
  public Integer canary() {
    return latest == null ? null : latest.getCanaryVersion();
  }

  public double canaryShare() {
    return latest == null || latest.getCanaryVersion() == null ? 0 : latest.getCanaryShare();
  }

  /** Whether the type is served: it has a promoted version. */
  public boolean served() {
    return promoted() != null;
  }

  /** Whether the type was served once and is no more: its promoted version was retired. */
  public boolean retired() {
    return latest != null && promoted() == null && !latest.getPromotionHistory().isEmpty();
  }

  /** The version that serves a job, or null when the type has none. */
  public Integer route(String jobId) {
    Integer canary = canary();
    if (canary != null
        && CanarySplit.toCanary(
            jobId, new AdapterId(documentType, canary).toString(), canaryShare())) {
      return canary;
    }
    return promoted();
  }

  /** The version a new upload gets. */
  public int nextVersion() {
    return versions().stream().mapToInt(AdapterVersion::getVersion).max().orElse(0) + 1;
  }

  /** Publishes a new version (a candidate: it serves nothing until canaried or promoted). */
  public AdapterManifest publish(AdapterVersion v, Instant now) {
    if (v.getVersion() != nextVersion()) {
      throw new IllegalArgumentException(
          "version " + v.getVersion() + " given, the next is " + nextVersion());
    }
    List<AdapterVersion> versions = new ArrayList<>(versions());
    versions.add(AdapterVersion.newBuilder(v).setStatus(AdapterStatus.CANDIDATE).build());
    return next(v.getVersion(), AdapterChange.PUBLISHED, now, versions)
        .setPromotedVersion(promoted())
        .setCanaryVersion(canary())
        .setCanaryShare(canaryShare())
        .setPromotionHistory(history())
        .build();
  }

  /** Serves a share of the type's jobs with version {@code v}; share 0 ends the canary. */
  public AdapterManifest canary(int v, double share, Instant now) throws RegistryException {
    AdapterVersion version = usable(v);
    if (!(share >= 0 && share <= 1)) {
      throw new RegistryException("--share must be within 0..1, got " + share);
    }
    if (promoted() == null) {
      throw new RegistryException(
          documentType
              + " has no promoted version for a canary to share traffic with; promote one first");
    }
    if (promoted() == v) {
      throw new RegistryException(id(v) + " is the promoted version already");
    }
    boolean end = share == 0;
    return next(version.getVersion(), AdapterChange.CANARIED, now, versions())
        .setPromotedVersion(promoted())
        .setCanaryVersion(end ? null : v)
        .setCanaryShare(end ? 0 : share)
        .setPromotionHistory(history())
        .build();
  }

  /** Makes {@code v} the version that serves the type; the promoted one goes onto the history. */
  public AdapterManifest promote(int v, Instant now) throws RegistryException {
    usable(v);
    if (promoted() != null && promoted() == v) {
      throw new RegistryException(id(v) + " is the promoted version already");
    }
    List<Integer> history = history();
    if (promoted() != null) {
      history.add(promoted());
    }
    List<AdapterVersion> versions = withStatus(v, AdapterStatus.PROMOTED);
    if (promoted() != null) {
      versions = withStatus(versions, promoted(), AdapterStatus.CANDIDATE);
    }
    Integer canary = canary() != null && canary() == v ? null : canary();
    return next(v, AdapterChange.PROMOTED, now, versions)
        .setPromotedVersion(v)
        .setCanaryVersion(canary)
        .setCanaryShare(canary == null ? 0 : canaryShare())
        .setPromotionHistory(history)
        .build();
  }

  /**
   * Returns to the version promoted before the current one (the last in the history that is not
   * retired) and ends any canary: the last good version serves every job again.
   */
  public AdapterManifest rollback(Instant now) throws RegistryException {
    List<Integer> history = history();
    while (!history.isEmpty()) {
      int previous = history.remove(history.size() - 1);
      Optional<AdapterVersion> v = version(previous);
      if (v.isPresent() && v.get().getStatus() != AdapterStatus.RETIRED) {
        List<AdapterVersion> versions = withStatus(previous, AdapterStatus.PROMOTED);
        if (promoted() != null) {
          versions = withStatus(versions, promoted(), AdapterStatus.CANDIDATE);
        }
        return next(previous, AdapterChange.ROLLED_BACK, now, versions)
            .setPromotedVersion(previous)
            .setCanaryVersion(null)
            .setCanaryShare(0)
            .setPromotionHistory(history)
            .build();
      }
    }
    throw new RegistryException(
        documentType
            + " has no earlier promoted version to roll back to"
            + (promoted() == null ? "" : " (" + id(promoted()) + " is the first)"));
  }

  /**
   * Retires {@code v}: it never serves again. Retiring the canary ends the canary; retiring the
   * promoted version retires the type.
   */
  public AdapterManifest retire(int v, Instant now) throws RegistryException {
    usable(v);
    List<Integer> history = history();
    Integer promoted = promoted();
    if (promoted != null && promoted == v) {
      history.add(v);
      promoted = null;
    }
    Integer canary = canary() != null && canary() == v ? null : canary();
    return next(v, AdapterChange.RETIRED, now, withStatus(v, AdapterStatus.RETIRED))
        .setPromotedVersion(promoted)
        .setCanaryVersion(canary)
        .setCanaryShare(canary == null ? 0 : canaryShare())
        .setPromotionHistory(history)
        .build();
  }

  private AdapterVersion usable(int v) throws RegistryException {
    if (latest == null) {
      throw new RegistryException("no adapter was published for " + documentType);
    }
    AdapterVersion version =
        version(v)
            .orElseThrow(
                () ->
                    new RegistryException(
                        "unknown version "
                            + id(v)
                            + "; "
                            + documentType
                            + " has "
                            + versions().stream().map(x -> id(x.getVersion())).toList()));
    if (version.getStatus() == AdapterStatus.RETIRED) {
      throw new RegistryException(id(v) + " is retired; publish a new version instead");
    }
    return version;
  }

  private String id(int v) {
    return new AdapterId(documentType, v).toString();
  }

  private List<Integer> history() {
    return latest == null ? new ArrayList<>() : new ArrayList<>(latest.getPromotionHistory());
  }

  private List<AdapterVersion> withStatus(int v, AdapterStatus status) {
    return withStatus(versions(), v, status);
  }

  private static List<AdapterVersion> withStatus(
      List<AdapterVersion> versions, int v, AdapterStatus status) {
    List<AdapterVersion> out = new ArrayList<>();
    for (AdapterVersion x : versions) {
      out.add(x.getVersion() == v ? AdapterVersion.newBuilder(x).setStatus(status).build() : x);
    }
    out.sort(Comparator.comparingInt(AdapterVersion::getVersion));
    return out;
  }

  /** A manifest about version {@code v} with the type's versions after the change. */
  private AdapterManifest.Builder next(
      int v, AdapterChange change, Instant now, List<AdapterVersion> versions) {
    AdapterVersion about =
        versions.stream().filter(x -> x.getVersion() == v).findFirst().orElseThrow();
    return AdapterManifest.newBuilder()
        .setDocumentType(documentType)
        .setAdapterId(id(v))
        .setVersion(v)
        .setBaseModelId(about.getBaseModelId())
        .setBaseModelSha256(about.getBaseModelSha256())
        .setRank(about.getRank())
        .setAlpha(about.getAlpha())
        .setTargetModules(about.getTargetModules())
        .setBlobUri(about.getBlobUri())
        .setBlobSha256(about.getBlobSha256())
        .setConfigSha256(about.getConfigSha256())
        .setSizeBytes(about.getSizeBytes())
        .setStatus(about.getStatus())
        .setCreatedAt(about.getCreatedAt())
        .setMetrics(about.getMetrics())
        .setChange(change)
        .setChangedAt(now)
        .setVersions(versions);
  }
}
