package dev.docstream.app.qc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.app.cli.DocstreamCommand;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Verdict;
import dev.docstream.topology.images.DirectoryImageStore;
import dev.docstream.topology.qc.review.ReviewQueue;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QC pieces that need no broker: logins, the export format, the commands' help. */
class QcUnitTest {
  @TempDir Path tmp;

  @Test
  void shouldVerifyOnlyTheRightPasswordAndRefuseABadEntry() {
    Analysts a = Analysts.of(List.of("alice:" + Analysts.hash("s3cret")));
    assertTrue(a.verify("alice", "s3cret"));
    assertFalse(a.verify("alice", "S3cret"));
    assertFalse(a.verify("bob", "s3cret"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Analysts.of(List.of("alice:plaintext")));
    assertTrue(e.getMessage().startsWith("analyst alice:"), e.getMessage());
    assertFalse(e.getMessage().contains("plaintext"), "the message never repeats the secret");
  }

  @Test
  void shouldExportCorrectedLabelsAndImagesButNoUnreadableTask() throws Exception {
    DirectoryImageStore images =
        new DirectoryImageStore(tmp.resolve("store"), Duration.ofDays(30), Clock.systemUTC());
    String sha = "ab".repeat(32);
    images.put(sha, new byte[] {1, 2, 3});
    ReviewQueue q = new ReviewQueue();
    q.task(task("j1", sha));
    q.task(task("j2", sha));
    q.task(task("j3", "cd".repeat(32))); // image gone
    q.verdict(verdict("j1", Verdict.CORRECTED, DocumentField.SURNAME, "SMYTHE"));
    q.verdict(verdict("j2", Verdict.UNREADABLE, null, null));
    q.verdict(verdict("j3", Verdict.CORRECT, null, null));
    QcExport.Counts n = QcExport.export(q, images, Set.of(), tmp.resolve("out"));
    assertEquals(1, n.exported());
    assertEquals(1, n.unreadable());
    assertEquals(1, n.imageMissing());
    List<String> lines = Files.readAllLines(tmp.resolve("out/manifest.jsonl"));
    assertEquals(1, lines.size());
    JsonNode line = new ObjectMapper().readTree(lines.get(0));
    assertEquals("j1", line.get("job_id").asText());
    assertEquals("SMYTHE", line.get("labels").get("SURNAME").asText());
    assertEquals("1990-01-02", line.get("labels").get("DATE_OF_BIRTH").asText());
    assertEquals("images/" + sha + ".png", line.get("image").asText());
    assertEquals(3, Files.size(tmp.resolve("out").resolve(line.get("image").asText())));
  }

  @Test
  void shouldPrintAnAnalystsEntryForAPasswordOnStandardInput() {
    InputStream stdin = System.in;
    StringWriter out = new StringWriter();
    try {
      System.setIn(new ByteArrayInputStream("pw-1\n".getBytes(StandardCharsets.UTF_8)));
      assertEquals(
          0,
          DocstreamCommand.execute(
              new PrintWriter(out, true), "qc", "hash-password", "--analyst", "carol"));
    } finally {
      System.setIn(stdin);
    }
    String entry = out.toString().trim();
    assertTrue(Analysts.of(List.of(entry)).verify("carol", "pw-1"), entry);
  }

  @Test
  void shouldGiveEveryQcSubcommandItsOwnHelp() {
    for (String sub : List.of("route", "serve", "export", "hash-password")) {
      StringWriter out = new StringWriter();
      assertEquals(0, DocstreamCommand.execute(new PrintWriter(out, true), "qc", sub, "--help"));
      assertTrue(out.toString().contains("Usage: docstream qc " + sub), out.toString());
    }
  }

  @Test
  void shouldSayInOneLineWhenTheReviewServiceHasNoAnalyst() {
    StringWriter err = new StringWriter();
    int code =
        DocstreamCommand.execute(
            new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true),
            "qc",
            "serve",
            "bootstrap.servers=localhost:1");
    assertEquals(1, code);
    assertEquals(1, err.toString().trim().lines().count(), err.toString());
  }

  private static QcTask task(String id, String sha) {
    return QcTask.newBuilder()
        .setJobId(id)
        .setDocumentType("GBR-PASSPORT-2000")
        .setAdapterId("GBR-PASSPORT-2000@1")
        .setAdapterVersion(1)
        .setSampleReason("RANDOM")
        .setSampleReasons(List.of("RANDOM"))
        .setFields(
            List.of(
                ExtractedField.newBuilder()
                    .setField(DocumentField.SURNAME)
                    .setValue("SMYTH")
                    .setConfidence(0.4f)
                    .build(),
                ExtractedField.newBuilder()
                    .setField(DocumentField.DATE_OF_BIRTH)
                    .setValue("1990-01-02")
                    .setConfidence(0.9f)
                    .build()))
        .setCreatedAt(Instant.EPOCH)
        .setImageSha256(sha)
        .build();
  }

  private static QcVerdict verdict(String id, Verdict v, DocumentField field, String value) {
    return QcVerdict.newBuilder()
        .setJobId(id)
        .setAnalystId("alice")
        .setVerdict(v)
        .setCorrections(
            field == null
                ? List.of()
                : List.of(
                    ExtractedField.newBuilder()
                        .setField(field)
                        .setValue(value)
                        .setConfidence(1)
                        .build()))
        .setDecidedAt(Instant.EPOCH)
        .build();
  }
}
