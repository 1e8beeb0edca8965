package dev.docstream.adapters.registry;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Which jobs a canary serves: those whose job id hashes (sha256, salted with the canary's adapter
 * id) under its share. Deterministic, so a rerun or a replay sends the same jobs to the same
 * version, and independent between canaries, so a new canary gets a fresh slice of traffic.
 */
public final class CanarySplit {
  private CanarySplit() {}

  /** A job's position in [0, 1) for a canary. */
  public static double position(String jobId, String canaryAdapterId) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    sha.update(canaryAdapterId.getBytes(StandardCharsets.UTF_8));
    sha.update((byte) 0);
    byte[] h = sha.digest(jobId.getBytes(StandardCharsets.UTF_8));
    long top = 0;
    for (int i = 0; i < 7; i++) {
      top = (top << 8) | (h[i] & 0xff);
    }
    return top / (double) (1L << 56); // 56 bits: exact in a double
  }

  /** Whether the canary serves this job. */
  public static boolean toCanary(String jobId, String canaryAdapterId, double share) {
    return share > 0 && position(jobId, canaryAdapterId) < share;
  }
}
