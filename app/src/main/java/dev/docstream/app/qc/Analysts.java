package dev.docstream.app.qc;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.KeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * The analysts who may sign in, each with a salted PBKDF2-HMAC-SHA256 hash of their password (the
 * JDK's own, as OWASP recommends for password storage when Argon2 is not at hand). An entry is
 * {@code name:pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>}; {@code docstream qc hash-password}
 * makes one.
 */
public final class Analysts {
  private static final String SCHEME = "pbkdf2-sha256";
  private static final int ITERATIONS = 210_000;
  private static final SecureRandom RANDOM = new SecureRandom();

  private record Hash(int iterations, byte[] salt, byte[] hash) {}

  private final Map<String, Hash> analysts;
  private final Hash dummy;

  private Analysts(Map<String, Hash> analysts) {
    this.analysts = analysts;
    this.dummy = parse(hash("not a password", 1_000)); // equal work for unknown names
  }

  /**
   * Parses {@code name:hash} entries.
   *
   * @throws IllegalArgumentException naming the entry (by position, never its hash) that is bad
   */
  public static Analysts of(List<String> entries) {
    Map<String, Hash> out = new HashMap<>();
    for (int i = 0; i < entries.size(); i++) {
      String e = entries.get(i).trim();
      int colon = e.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException(
            "analyst entry " + (i + 1) + " is not name:" + SCHEME + "$iterations$salt$hash");
      }
      try {
        out.put(e.substring(0, colon), parse(e.substring(colon + 1)));
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException(
            "analyst " + e.substring(0, colon) + ": " + bad.getMessage(), bad);
      }
    }
    return new Analysts(Map.copyOf(out));
  }

  /** How many analysts may sign in. */
  public int size() {
    return analysts.size();
  }

  /** Whether {@code password} is {@code name}'s. Takes as long for an unknown name. */
  public boolean verify(String name, String password) {
    Hash h = analysts.get(name);
    Hash against = h == null ? dummy : h;
    byte[] got = derive(password, against.salt(), against.iterations());
    return MessageDigest.isEqual(got, against.hash()) && h != null;
  }

  /** A hash entry for {@code password}, with a fresh salt. */
  public static String hash(String password) {
    return hash(password, ITERATIONS);
  }

  static String hash(String password, int iterations) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    Base64.Encoder b64 = Base64.getEncoder();
    return SCHEME
        + "$"
        + iterations
        + "$"
        + b64.encodeToString(salt)
        + "$"
        + b64.encodeToString(derive(password, salt, iterations));
  }

  /** A random password for a generated login (the embedded stack's analyst). */
  public static String randomPassword() {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static Hash parse(String s) {
    String[] p = s.split("\\$");
    if (p.length != 4 || !p[0].equals(SCHEME)) {
      throw new IllegalArgumentException("hash is not " + SCHEME + "$iterations$salt$hash");
    }
    try {
      return new Hash(
          Integer.parseInt(p[1]),
          Base64.getDecoder().decode(p[2]),
          Base64.getDecoder().decode(p[3]));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("hash has a bad iteration count or base64", e);
    }
  }

  private static byte[] derive(String password, byte[] salt, int iterations) {
    try {
      KeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is in every Java runtime", e);
    }
  }
}
