package dev.docstream.training.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.inference.model.decoding.CharacterSet;
import dev.docstream.inference.model.decoding.FieldNormalizer;
import dev.docstream.schemas.DocumentField;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DocumentGeneratorTest {

  private static int[] pixels(SyntheticDocument d) {
    return d.image()
        .getRGB(0, 0, d.image().getWidth(), d.image().getHeight(), null, 0, d.image().getWidth());
  }

  private static SyntheticDocument render(String type, long seed) {
    DocumentTypeSpec spec = DocumentTypeSpec.forId(type);
    Random rnd = new Random(seed);
    return DocumentRenderer.render(
        spec, IdentitySampler.sample(spec, rnd), DocumentRenderer.Augmentation.MILD, rnd);
  }

  @Test
  void shouldRenderTheSamePixelsForTheSameTypeAndSeed() {
    SyntheticDocument a = render("GBR-PASSPORT-2015", 3);
    SyntheticDocument b = render("GBR-PASSPORT-2015", 3);
    assertEquals(
        DocumentTypeSpec.forId("GBR-PASSPORT-2015"), DocumentTypeSpec.forId("GBR-PASSPORT-2015"));
    assertArrayEquals(pixels(a), pixels(b));
    assertEquals(a.identity(), b.identity());
    assertFalse(java.util.Arrays.equals(pixels(a), pixels(render("GBR-PASSPORT-2015", 4))));
  }

  @Test
  void shouldOfferAtLeast2000DistinctDocumentTypes() {
    List<String> ids = DocumentTypes.catalog();
    assertTrue(ids.size() >= 2000, "catalogue has " + ids.size());
    Set<String> looks = new HashSet<>();
    for (String id : ids.subList(0, 2000)) {
      DocumentTypeSpec s = DocumentTypeSpec.forId(id);
      looks.add(
          s.rows()
              + "|"
              + s.labels().get(0)
              + "|"
              + s.valueFont()
              + "|"
              + s.dateFormat()
              + "|"
              + s.photoLeft()
              + "|"
              + s.cardWidth()
              + "x"
              + s.cardHeight()
              + "|"
              + s.documentNumberPattern());
    }
    assertTrue(looks.size() >= 1990, "only " + looks.size() + " distinct looks among 2000 types");
  }

  @Test
  void shouldDeriveCountryAndKindFromTheId() {
    DocumentTypeSpec s = DocumentTypeSpec.forId("FRA-ID-CARD-2020");
    assertEquals("FRA", s.country());
    assertEquals("ID-CARD", s.kind());
    assertTrue(s.title().contains("IDENTITY CARD"));
    assertNotEquals(
        DocumentTypeSpec.forId("FRA-ID-CARD-2020"), DocumentTypeSpec.forId("FRA-ID-CARD-2021"));
  }

  @Test
  void shouldPrintDatesThatNormaliseBackToIsoInEveryFormat() {
    LocalDate date = LocalDate.of(1987, 3, 9);
    for (DateFormat f : DateFormat.values()) {
      assertEquals(
          "1987-03-09",
          FieldNormalizer.normalize(DocumentField.DATE_OF_BIRTH, f.print(date)),
          f.name());
    }
  }

  @Test
  void shouldPlaceEveryPrintedCharacterOnTheImageInReadingOrder() {
    for (String id : DocumentTypes.catalog().subList(0, 200)) {
      SyntheticDocument d = render(id, 1);
      for (DocumentField f : DocumentField.values()) {
        SyntheticDocument.PrintedField p = d.printed().get(f);
        assertEquals(p.text().length(), p.charCentersX().length);
        for (int i = 0; i < p.text().length(); i++) {
          assertTrue(
              CharacterSet.classOf(p.text().charAt(i)) > 0,
              id + " prints unreadable '" + p.text().charAt(i) + "'");
          assertTrue(
              p.charCentersX()[i] > 0 && p.charCentersX()[i] < 1, id + " " + f + " off the card");
          assertTrue(
              i == 0 || p.charCentersX()[i] > p.charCentersX()[i - 1],
              id + " " + f + " out of order");
        }
        assertTrue(p.centerY() > 0.1 && p.centerY() < 1, id + " " + f + " y " + p.centerY());
      }
    }
  }

  @Test
  void shouldKeepGroundTruthCanonical() {
    SyntheticDocument d = render("DEU-RESIDENCE-PERMIT-2011", 9);
    var truth = d.identity().groundTruth();
    assertTrue(truth.get(DocumentField.DATE_OF_BIRTH).matches("\\d{4}-\\d{2}-\\d{2}"));
    assertTrue(truth.get(DocumentField.NATIONALITY).matches("[A-Z]{3}"));
    assertTrue(truth.get(DocumentField.SEX).matches("[MFX]"));
    assertEquals(truth.get(DocumentField.SURNAME), truth.get(DocumentField.SURNAME).toUpperCase());
  }
}
