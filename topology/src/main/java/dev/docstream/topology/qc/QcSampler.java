package dev.docstream.topology.qc;

import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which results go to human review, and why. Pure and deterministic: the random decisions are a
 * hash of the job id (of the original job, for a replay), so a replayed or re-processed job gets
 * the same decision, as A2I's sampling does for a repeated request.
 */
public final class QcSampler {
  /** Sampling reasons, in the order a task lists them. */
  public static final String LOW_CONFIDENCE = "LOW_CONFIDENCE";

  public static final String RANDOM = "RANDOM";
  public static final String NEW_ADAPTER = "NEW_ADAPTER";
  public static final String BASE_MODEL_FALLBACK = "BASE_MODEL_FALLBACK";

  private final double threshold;
  private final Map<String, Double> thresholds;
  private final double share;
  private final Map<String, Double> shares;
  private final int newAdapterResults;
  private final double newAdapterShare;

  /**
   * @param threshold a requested field under it makes a result LOW_CONFIDENCE
   * @param thresholds per-type overrides of {@code threshold}
   * @param share the RANDOM audit share
   * @param shares per-type overrides of {@code share}
   * @param newAdapterResults how many first results of an adapter version count as new
   * @param newAdapterShare the share of those sampled as NEW_ADAPTER
   */
  public QcSampler(
      double threshold,
      Map<String, Double> thresholds,
      double share,
      Map<String, Double> shares,
      int newAdapterResults,
      double newAdapterShare) {
    this.threshold = threshold;
    this.thresholds = thresholds;
    this.share = share;
    this.shares = shares;
    this.newAdapterResults = newAdapterResults;
    this.newAdapterShare = newAdapterShare;
  }

  /** The threshold for a document type. */
  public double threshold(String documentType) {
    return thresholds.getOrDefault(documentType, threshold);
  }

  /** The audit share for a document type. */
  public double share(String documentType) {
    return shares.getOrDefault(documentType, share);
  }

  /** Whether the result can be reviewed at all: an OK result has fields to check. */
  public static boolean reviewable(ExtractionResult r) {
    return r.getStatus() == dev.docstream.schemas.ResultStatus.OK && !r.getFields().isEmpty();
  }

  /**
   * Every reason that applies to a result; empty: not sampled.
   *
   * @param adapterResultsBefore how many results of the same adapter version the router saw before
   *     this one
   */
  public List<String> reasons(ExtractionResult r, long adapterResultsBefore) {
    List<String> out = new ArrayList<>(4);
    if (!reviewable(r)) {
      return out;
    }
    double limit = threshold(r.getDocumentType());
    for (ExtractedField f : r.getFields()) {
      if (f.getConfidence() < limit) {
        out.add(LOW_CONFIDENCE);
        break;
      }
    }
    String id = decisionId(r);
    if (unit("random", id) < share(r.getDocumentType())) {
      out.add(RANDOM);
    }
    if (r.getAdapterId() != null
        && adapterResultsBefore < newAdapterResults
        && unit("new-adapter", id) < newAdapterShare) {
      out.add(NEW_ADAPTER);
    }
    if (BASE_MODEL_FALLBACK.equals(r.getReason())) {
      out.add(BASE_MODEL_FALLBACK);
    }
    return out;
  }

  /** The id the random decisions are made on: the original job's, for a replay. */
  public static String decisionId(ExtractionResult r) {
    return r.getReplayOf() != null ? r.getReplayOf() : r.getJobId();
  }

  /** A uniform number in [0, 1) from sha256(salt + ":" + id): the same id, the same number. */
  static double unit(String salt, String id) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest((salt + ":" + id).getBytes(StandardCharsets.UTF_8));
      return (ByteBuffer.wrap(h).getLong() >>> 11) * 0x1.0p-53;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
