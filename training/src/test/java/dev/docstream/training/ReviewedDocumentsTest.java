package dev.docstream.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.SyntheticDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReviewedDocumentsTest {
  private static final String TYPE = "GBR-PASSPORT-2000";
  private static final String OTHER = "NLD-ID-CARD-2024";

  @TempDir Path dir;

  @Test
  void shouldReadTheDocumentsOfTheTypeFromAnExportFolder() throws Exception {
    List<SyntheticDocument> docs = ReviewedExports.render(TYPE, 3, 1);
    SyntheticDocument other = ReviewedExports.render(OTHER, 1, 2).get(0);
    List<Object> lines = new ArrayList<>();
    lines.add(
        ReviewedExports.line("job-1-0", docs.get(0), ReviewedExports.writeImage(dir, docs.get(0))));
    // Another type's line is skipped, its image not even looked for.
    lines.add(ReviewedExports.line("job-1-1", other, "images/elsewhere.png"));
    Map<String, Object> withNull = ReviewedExports.labels(docs.get(1));
    withNull.put("GIVEN_NAMES", null);
    lines.add(
        ReviewedExports.line(
            "job-1-2", TYPE, ReviewedExports.writeImage(dir, docs.get(1)), withNull));
    lines.add("");
    // A job that asked for two fields only.
    Map<String, Object> subset = new java.util.LinkedHashMap<>();
    subset.put("SURNAME", docs.get(2).identity().surname());
    subset.put("EXPIRY_DATE", docs.get(2).identity().expiryDate().toString());
    lines.add(
        ReviewedExports.line(
            "job-1-3", TYPE, ReviewedExports.writeImage(dir, docs.get(2)), subset));
    ReviewedExports.writeManifest(dir, lines);

    List<ReviewedDocuments.Document> read = ReviewedDocuments.read(dir, TYPE);

    assertEquals(List.of(1, 3, 5), read.stream().map(ReviewedDocuments.Document::line).toList());
    assertEquals(docs.get(0).identity().groundTruth(), read.get(0).labels());
    assertEquals(docs.get(0).image().getWidth(), read.get(0).image().getWidth());
    assertEquals(docs.get(0).image().getRGB(10, 10), read.get(0).image().getRGB(10, 10));
    assertTrue(read.get(1).labels().containsKey(DocumentField.GIVEN_NAMES));
    assertNull(read.get(1).labels().get(DocumentField.GIVEN_NAMES));
    assertEquals(2, read.get(2).labels().size());
    assertEquals(
        docs.get(2).identity().expiryDate().toString(),
        read.get(2).labels().get(DocumentField.EXPIRY_DATE));
    // Printed or logged, a document shows its line, never its labels.
    assertEquals("reviewed document (manifest line 1)", read.get(0).toString());
    assertTrue(ReviewedDocuments.read(dir, "FIN-DRIVING-LICENCE-2024").isEmpty());
  }

  @Test
  void shouldRefuseABadLineNamingItsNumberAndNoValue() throws Exception {
    SyntheticDocument doc = ReviewedExports.render(TYPE, 1, 3).get(0);
    String image = ReviewedExports.writeImage(dir, doc);
    String good =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .writeValueAsString(ReviewedExports.line("job-1-0", doc, image));
    String surname = doc.identity().surname();
    Map<String, String> bad = new java.util.LinkedHashMap<>();
    bad.put("{\"document_type\":\"" + TYPE + "\",\"labels\":{\"SURNAME\":\"" + surname, "not JSON");
    bad.put("[\"" + surname + "\"]", "not a JSON object");
    bad.put(good.replace("\"document_type\":\"" + TYPE + "\",", ""), "document_type is missing");
    bad.put(good.replace(image, "images/missing.png"), "image file is missing");
    bad.put(good.replace(image, "../" + image), "not a path inside the folder");
    bad.put(good.replace("\"SURNAME\"", "\"SURNAMES\""), "not a field name");
    bad.put(good.replace("\"" + surname + "\"", "42"), "label of SURNAME is not a string or null");
    bad.put(good.replace("\"labels\":{", "\"labels\":{\"x\":1},\"y\":{"), "not a field name");
    Files.writeString(dir.resolve("images/not-an-image.png"), surname);
    bad.put(good.replace(image, "images/not-an-image.png"), "not a PNG or JPEG");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      ReviewedExports.writeManifest(dir, List.of(good, "", e.getKey()));
      ReviewedDocuments.RefusedException refused =
          assertThrows(
              ReviewedDocuments.RefusedException.class,
              () -> ReviewedDocuments.read(dir, TYPE),
              e.getValue());
      String message = refused.getMessage();
      assertTrue(message.contains("manifest.jsonl line 3: "), message);
      assertTrue(message.contains(e.getValue()), message);
      assertFalse(message.contains(surname), "the message holds a label: " + message);
      assertFalse(message.contains("\n"), message);
      assertNull(refused.getCause(), "a cause could quote the line");
    }
  }

  @Test
  void shouldRefuseAFolderWithoutAManifest() {
    ReviewedDocuments.RefusedException refused =
        assertThrows(
            ReviewedDocuments.RefusedException.class, () -> ReviewedDocuments.read(dir, TYPE));
    assertTrue(refused.getMessage().contains("docstream qc export"), refused.getMessage());
  }
}
