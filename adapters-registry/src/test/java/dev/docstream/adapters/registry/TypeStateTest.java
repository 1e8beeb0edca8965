package dev.docstream.adapters.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.AdapterChange;
import dev.docstream.schemas.AdapterManifest;
import dev.docstream.schemas.AdapterStatus;
import dev.docstream.schemas.AdapterVersion;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TypeStateTest {
  private static final String T = "GBR-PASSPORT-2015";
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

  static AdapterVersion version(int v) {
    return AdapterVersion.newBuilder()
        .setVersion(v)
        .setBaseModelId("base")
        .setBaseModelSha256("ab".repeat(32))
        .setRank(4)
        .setAlpha(8)
        .setTargetModules(List.of("decoder.head"))
        .setBlobUri("sha256:" + String.valueOf(v).repeat(64).substring(0, 64))
        .setBlobSha256("cd".repeat(32))
        .setConfigSha256("ef".repeat(32))
        .setSizeBytes(100)
        .setStatus(AdapterStatus.CANDIDATE)
        .setCreatedAt(NOW)
        .setMetrics(Map.of())
        .build();
  }

  /** Publishes versions 1..n. */
  static TypeState published(int n) {
    TypeState s = TypeState.empty(T);
    for (int v = 1; v <= n; v++) {
      s = TypeState.of(s.publish(version(v), NOW));
    }
    return s;
  }

  @Test
  void shouldPublishCandidatesThatServeNothingUntilPromoted() {
    TypeState s = published(2);
    assertEquals(3, s.nextVersion());
    assertFalse(s.served());
    assertFalse(s.retired());
    assertNull(s.route("job-1"));
    assertEquals(AdapterChange.PUBLISHED, s.latest().orElseThrow().getChange());
    assertEquals(T + "@2", s.latest().orElseThrow().getAdapterId());
    assertEquals(2, s.versions().size(), "the latest manifest names every version");
  }

  @Test
  void shouldPromoteThenRollBackToThePreviousPromotedVersion() throws Exception {
    TypeState s = published(3);
    s = TypeState.of(s.promote(1, NOW));
    s = TypeState.of(s.promote(2, NOW));
    s = TypeState.of(s.promote(3, NOW));
    assertEquals(3, s.promoted());
    assertEquals(List.of(1, 2), s.latest().orElseThrow().getPromotionHistory());
    assertEquals(AdapterStatus.PROMOTED, s.version(3).orElseThrow().getStatus());
    assertEquals(AdapterStatus.CANDIDATE, s.version(2).orElseThrow().getStatus());

    s = TypeState.of(s.rollback(NOW));
    assertEquals(2, s.promoted());
    assertEquals(AdapterChange.ROLLED_BACK, s.latest().orElseThrow().getChange());
    s = TypeState.of(s.rollback(NOW));
    assertEquals(1, s.promoted());
    TypeState first = s;
    RegistryException e = assertThrows(RegistryException.class, () -> first.rollback(NOW));
    assertEquals(
        T + " has no earlier promoted version to roll back to (" + T + "@1 is the first)",
        e.getMessage());
  }

  @Test
  void shouldSkipRetiredVersionsOnRollback() throws Exception {
    TypeState s = published(3);
    s = TypeState.of(s.promote(1, NOW));
    s = TypeState.of(s.promote(2, NOW));
    s = TypeState.of(s.promote(3, NOW));
    s = TypeState.of(s.retire(2, NOW));
    s = TypeState.of(s.rollback(NOW));
    assertEquals(1, s.promoted(), "version 2 is retired: rollback goes past it");
  }

  @Test
  void shouldRouteTheCanaryShareByJobIdAndEndItWithShareZero() throws Exception {
    TypeState s = TypeState.of(published(2).promote(1, NOW));
    s = TypeState.of(s.canary(2, 0.25, NOW));
    int toCanary = 0;
    for (int i = 0; i < 1000; i++) {
      String job = "job-" + i;
      int v = s.route(job);
      assertEquals(CanarySplit.toCanary(job, T + "@2", 0.25) ? 2 : 1, v);
      assertEquals(v, s.route(job), "the same job always goes to the same version");
      toCanary += v == 2 ? 1 : 0;
    }
    assertTrue(toCanary > 150 && toCanary < 350, "about a quarter: " + toCanary);
    s = TypeState.of(s.canary(2, 0, NOW));
    assertNull(s.canary());
    assertEquals(1, s.route("job-1"));
  }

  @Test
  void shouldEndTheCanaryWhenItIsPromoted() throws Exception {
    TypeState s = TypeState.of(published(2).promote(1, NOW));
    s = TypeState.of(TypeState.of(s.canary(2, 0.1, NOW)).promote(2, NOW));
    assertNull(s.canary());
    assertEquals(0.0, s.canaryShare());
    assertEquals(2, s.promoted());
  }

  @Test
  void shouldRetireTheTypeWithItsPromotedVersion() throws Exception {
    TypeState s = TypeState.of(published(1).promote(1, NOW));
    s = TypeState.of(s.retire(1, NOW));
    assertFalse(s.served());
    assertTrue(s.retired());
    assertNull(s.route("job-1"));
    assertEquals(AdapterStatus.RETIRED, s.version(1).orElseThrow().getStatus());
  }

  @Test
  void shouldRefuseEachBadRequestWithOneLine() throws Exception {
    TypeState none = TypeState.empty(T);
    TypeState candidates = published(2);
    TypeState promoted = TypeState.of(candidates.promote(1, NOW));
    TypeState retired2 = TypeState.of(promoted.retire(2, NOW));
    Map<String, org.junit.jupiter.api.function.Executable> bad = new java.util.LinkedHashMap<>();
    bad.put("no adapter was published for " + T, () -> none.promote(1, NOW));
    bad.put(
        "unknown version " + T + "@7; " + T + " has [" + T + "@1, " + T + "@2]",
        () -> candidates.promote(7, NOW));
    bad.put(
        T + " has no promoted version for a canary to share traffic with; promote one first",
        () -> candidates.canary(2, 0.1, NOW));
    bad.put(T + "@1 is the promoted version already", () -> promoted.promote(1, NOW));
    bad.put(T + "@1 is the promoted version already", () -> promoted.canary(1, 0.1, NOW));
    bad.put("--share must be within 0..1, got 1.5", () -> promoted.canary(2, 1.5, NOW));
    bad.put(T + "@2 is retired; publish a new version instead", () -> retired2.promote(2, NOW));
    for (var e : bad.entrySet()) {
      RegistryException ex = assertThrows(RegistryException.class, e.getValue());
      assertEquals(e.getKey(), ex.getMessage());
      assertFalse(ex.getMessage().contains("\n"));
    }
  }

  @Test
  void shouldParseAdapterIdsAndRefuseOthers() throws Exception {
    assertEquals(new AdapterId(T, 3), AdapterId.parse(T + "@3"));
    for (String bad : List.of(T, T + "@", "@3", T + "@0", T + "@x")) {
      assertThrows(RegistryException.class, () -> AdapterId.parse(bad), bad);
    }
  }

  @Test
  void shouldKeepManifestsReadableAfterSerialisation() throws Exception {
    AdapterManifest m = TypeState.of(published(2).promote(2, NOW)).canary(1, 0.5, NOW);
    var serde =
        dev.docstream.schemas.Topics.ADAPTERS_MANIFESTS.valueSerde(
            dev.docstream.schemas.registry.InMemorySchemaRegistry.scope("type-state-test"));
    AdapterManifest back = serde.deserialize("t", serde.serialize("t", m));
    TypeState s = TypeState.of(back);
    assertEquals(2, s.promoted());
    assertEquals(1, s.canary());
    assertEquals(0.5, s.canaryShare());
  }
}
