package dev.docstream.app.qc;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Signed-in analysts: an unguessable token (256 random bits) per session, kept in memory, ended by
 * sign-out or after an idle time. A restart of the service signs everyone out; their leases, kept
 * in Kafka, are theirs again when they sign back in.
 */
final class Sessions {
  private record Session(String analyst, Set<String> skipped, Instant lastSeen) {}

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final Duration idle;
  private final Clock clock;

  Sessions(Duration idle, Clock clock) {
    this.idle = idle;
    this.clock = clock;
  }

  /** A new session's token. */
  String open(String analyst) {
    byte[] b = new byte[32];
    random.nextBytes(b);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    sessions.put(token, new Session(analyst, ConcurrentHashMap.newKeySet(), clock.instant()));
    return token;
  }

  /** The analyst of a live session, renewing it. */
  Optional<String> analyst(String token) {
    if (token == null) {
      return Optional.empty();
    }
    Session s = sessions.get(token);
    Instant now = clock.instant();
    if (s == null || s.lastSeen().plus(idle).isBefore(now)) {
      sessions.remove(token);
      return Optional.empty();
    }
    sessions.put(token, new Session(s.analyst(), s.skipped(), now));
    return Optional.of(s.analyst());
  }

  /** The tasks skipped in this session: not offered again until the analyst signs in anew. */
  Set<String> skipped(String token) {
    Session s = token == null ? null : sessions.get(token);
    return s == null ? ConcurrentHashMap.newKeySet() : s.skipped();
  }

  void close(String token) {
    if (token != null) {
      sessions.remove(token);
    }
  }
}
