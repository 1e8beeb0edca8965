package dev.docstream.topology.qc.review;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcLease;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReviewQueueTest {
  private static final String TYPE = "GBR-PASSPORT-2015";
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  static QcTask task(String id, String reason, float... confidences) {
    List<ExtractedField> fields = new java.util.ArrayList<>();
    for (int i = 0; i < confidences.length; i++) {
      fields.add(
          ExtractedField.newBuilder()
              .setField(DocumentField.values()[i])
              .setValue("V" + i)
              .setConfidence(confidences[i])
              .build());
    }
    return QcTask.newBuilder()
        .setJobId(id)
        .setDocumentType(TYPE)
        .setAdapterId(TYPE + "@1")
        .setAdapterVersion(1)
        .setSampleReason(reason)
        .setSampleReasons(List.of(reason))
        .setFields(fields)
        .setCreatedAt(T0)
        .build();
  }

  static QcLease lease(String id, String analyst, Instant at, Duration d) {
    return QcLease.newBuilder()
        .setJobId(id)
        .setAnalystId(analyst)
        .setLeasedAt(at)
        .setExpiresAt(at.plus(d))
        .build();
  }

  static QcVerdict verdict(String id, Verdict v, ExtractedField... corrections) {
    return QcVerdict.newBuilder()
        .setJobId(id)
        .setAnalystId("alice")
        .setVerdict(v)
        .setCorrections(List.of(corrections))
        .setDecidedAt(T0)
        .build();
  }

  @Test
  void shouldOfferTheLowestConfidenceOpenTaskAndNeverOneLeasedToAnother() {
    ReviewQueue q = new ReviewQueue();
    q.task(task("high", "RANDOM", 0.9f, 0.95f));
    q.task(task("low", "LOW_CONFIDENCE", 0.9f, 0.2f));
    q.task(task("mid", "LOW_CONFIDENCE", 0.5f));
    assertEquals("low", q.next(TYPE, "alice", T0, Set.of()).orElseThrow().getJobId());
    q.lease(lease("low", "alice", T0, Duration.ofMinutes(5)));
    assertEquals("mid", q.next(TYPE, "bob", T0, Set.of()).orElseThrow().getJobId());
    assertEquals("low", q.next(TYPE, "alice", T0, Set.of()).orElseThrow().getJobId(), "her own");
    assertEquals("high", q.next(TYPE, "bob", T0, Set.of("mid")).orElseThrow().getJobId());
    assertEquals(
        "low",
        q.next(TYPE, "bob", T0.plus(Duration.ofMinutes(6)), Set.of()).orElseThrow().getJobId(),
        "an expired lease returns the task to the queue");
  }

  @Test
  void shouldIgnoreALeaseOlderThanTheOneApplied() {
    ReviewQueue q = new ReviewQueue();
    q.task(task("j", "RANDOM", 0.9f));
    q.lease(lease("j", "bob", T0.plusSeconds(10), Duration.ofMinutes(5)));
    q.lease(lease("j", "alice", T0, Duration.ofMinutes(5)));
    assertEquals("bob", q.liveLease("j", T0.plusSeconds(20)).orElseThrow().analyst());
  }

  @Test
  void shouldKeepTheFirstVerdictAndNotOfferADecidedTask() {
    ReviewQueue q = new ReviewQueue();
    q.task(task("j", "RANDOM", 0.9f));
    assertTrue(q.verdict(verdict("j", Verdict.CORRECT)));
    assertFalse(q.verdict(verdict("j", Verdict.UNREADABLE)));
    assertEquals(Verdict.CORRECT, q.verdictOf("j").orElseThrow().getVerdict());
    assertTrue(q.next(TYPE, "alice", T0, Set.of()).isEmpty());
    assertEquals(List.of(), q.queues(T0));
  }

  @Test
  void shouldSummariseEachQueue() {
    ReviewQueue q = new ReviewQueue();
    q.task(task("a", "RANDOM", 0.9f));
    q.task(task("b", "LOW_CONFIDENCE", 0.3f));
    q.lease(lease("b", "bob", T0, Duration.ofMinutes(5)));
    ReviewQueue.QueueSummary s = q.queues(T0.plusSeconds(90)).get(0);
    assertEquals(new ReviewQueue.QueueSummary(TYPE, 1, 1, 90, 0.9f), s);
  }

  @Test
  void shouldComputeAccuracyWithItsWilsonIntervalAndKeepTheAuditSampleApart() {
    ReviewQueue q = new ReviewQueue();
    // Audit: 40 single-field tasks, 38 right. Targeted: 2 tasks, one corrected.
    for (int i = 0; i < 40; i++) {
      q.task(task("a" + i, "RANDOM", 0.95f));
      q.verdict(
          i < 38
              ? verdict("a" + i, Verdict.CORRECT)
              : verdict("a" + i, Verdict.CORRECTED, corrected(DocumentField.values()[0], "X")));
    }
    q.task(task("t0", "LOW_CONFIDENCE", 0.3f, 0.9f));
    q.verdict(verdict("t0", Verdict.CORRECTED, corrected(DocumentField.values()[0], "X")));
    q.task(task("t1", "LOW_CONFIDENCE", 0.3f));
    q.verdict(verdict("t1", Verdict.UNREADABLE));
    QualityFigures.Figures f = QualityFigures.of(q.reviewed(), 60_000, q.counts(T0));
    QualityFigures.Row audit =
        f.rows().stream()
            .filter(r -> r.sample().equals("AUDIT") && r.field().equals("ALL"))
            .findFirst()
            .orElseThrow();
    assertEquals(40, audit.reviewed());
    assertEquals(38, audit.correct());
    assertEquals(0.8350, audit.low(), 1e-4);
    assertEquals(0.9862, audit.high(), 1e-4);
    QualityFigures.Row targeted =
        f.rows().stream()
            .filter(r -> r.sample().equals("TARGETED") && r.field().equals("ALL"))
            .findFirst()
            .orElseThrow();
    assertEquals(2, targeted.reviewed(), "the unreadable task counts no field");
    assertEquals(1, targeted.correct());
    assertEquals(java.util.Map.of(TYPE + "@1", 1), f.unreadable());
  }

  @Test
  void shouldReportNoCalibrationErrorForACalibratedSample() {
    List<double[]> points = new java.util.ArrayList<>();
    for (int i = 0; i < 100; i++) {
      points.add(new double[] {0.75, i % 4 == 0 ? 0 : 1});
      points.add(new double[] {0.25, i % 4 == 0 ? 1 : 0});
    }
    assertEquals(0, QualityFigures.calibrate("a", "AUDIT", points).ece(), 1e-12);
    points.add(new double[] {0.95, 0});
    assertTrue(QualityFigures.calibrate("a", "AUDIT", points).ece() > 0);
  }

  private static ExtractedField corrected(DocumentField f, String value) {
    return ExtractedField.newBuilder().setField(f).setValue(value).setConfidence(1).build();
  }
}
