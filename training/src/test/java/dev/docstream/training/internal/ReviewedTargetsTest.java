package dev.docstream.training.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.decoding.CharacterSet;
import dev.docstream.inference.model.decoding.OutputDecoder;
import dev.docstream.inference.model.decoding.TextAlignment;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.ReviewedDocuments;
import dev.docstream.training.ReviewedExports;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.SyntheticDocument;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Forced alignment of reviewed documents, with the shipped base model and the type's shipped
 * adapter merged (what {@code train adapter --init} starts from, and aligns with).
 */
class ReviewedTargetsTest {
  private static final Path ROOT = Path.of(System.getProperty("docstream.root", ".."));
  private static final Path BASE = ROOT.resolve("models/base");
  private static final String TYPE = "GBR-PASSPORT-2000";
  private static final int FIELDS = DocumentField.values().length;
  private static final int C = CharacterSet.CLASSES;

  private static List<ReviewedDocuments.Document> reviewed(List<SyntheticDocument> docs) {
    List<ReviewedDocuments.Document> out = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      out.add(
          new ReviewedDocuments.Document(
              i + 1, docs.get(i).image(), docs.get(i).identity().groundTruth()));
    }
    return out;
  }

  /** The base with the type's shipped adapter merged. */
  private static final class Adapted implements AutoCloseable {
    final Extractor extractor;
    final LoadedAdapter loaded;
    final MergeEngine merge;

    Adapted() throws Exception {
      extractor = Extractor.load(BASE);
      PeftAdapter adapter =
          PeftAdapter.read(
              ROOT.resolve("models/adapters").resolve(TYPE),
              ModelCheckpoint.checksum(BASE),
              extractor.block().moduleShapes());
      loaded = new LoadedAdapter(TYPE, adapter, extractor.manager());
      merge = new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT);
      merge.merge(loaded);
    }

    @Override
    public void close() {
      merge.close();
      loaded.close();
      extractor.close();
    }
  }

  @Test
  void shouldAlignEachCharacterWithinAFrameOrTwoOfWhereItIsPrinted() throws Exception {
    List<SyntheticDocument> docs = ReviewedExports.render(TYPE, 16, 41);
    try (Adapted model = new Adapted()) {
      int frames = model.extractor.block().config().frames();
      float[] logits = model.extractor.logits(docs.stream().map(SyntheticDocument::image).toList());
      List<Double> errors = new ArrayList<>();
      for (int b = 0; b < docs.size(); b++) {
        for (DocumentField f : DocumentField.values()) {
          SyntheticDocument.PrintedField printed = docs.get(b).printed().get(f);
          TextAlignment a =
              TextAlignment.align(
                  logits, (b * FIELDS + f.ordinal()) * frames * C, frames, printed.text());
          assertTrue(a.isPossible(), f + " of document " + b);
          assertEquals(printed.text().length(), a.characters());
          for (int i = 0; i < a.characters(); i++) {
            errors.add(Math.abs(a.center(i) - printed.charCentersX()[i] * frames));
          }
        }
      }
      double[] sorted = errors.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double median = sorted[sorted.length / 2];
      double within1 = Arrays.stream(sorted).filter(e -> e <= 1).count() / (double) sorted.length;
      assertTrue(median <= 0.5, "median distance to the printed centre " + median + " frames");
      assertTrue(within1 >= 0.99, within1 + " of the characters within a frame");
      assertTrue(
          sorted[sorted.length - 1] <= 2,
          "a character " + sorted[sorted.length - 1] + " frames off");
      // A text longer than the frames can hold is impossible.
      TextAlignment tooLong = TextAlignment.align(logits, 0, frames, "A".repeat(frames / 2 + 1));
      assertEquals(Double.NEGATIVE_INFINITY, tooLong.logProbability());
      assertEquals(0, tooLong.characters());
    }
  }

  @Test
  void shouldLabelReviewedDocumentsAsTheRendererWouldFromTheirCanonicalLabels() throws Exception {
    // The labels are canonical (dates YYYY-MM-DD): aligned as the type prints them, the frames
    // labelled read back as the printed text, and agree with the renderer's labels.
    List<SyntheticDocument> docs = ReviewedExports.render(TYPE, 16, 43);
    ModelConfig config;
    ReviewedTargets.Targets targets;
    try (Extractor base = Extractor.load(BASE)) {
      config = base.block().config();
      targets =
          ReviewedTargets.align(reviewed(docs), DocumentTypeSpec.forId(TYPE), config, base::logits);
    }
    assertEquals(new ReviewedTargets.Counts(16, 16 * FIELDS, 0, 0, 0), targets.counts());
    BatchData synthetic = BatchData.of(docs, config);
    int frames = config.frames();
    float[] logits = new float[docs.size() * FIELDS * frames * C];
    long characters = 0;
    long agree = 0;
    for (int b = 0; b < docs.size(); b++) {
      ReviewedTargets.Sample s = targets.samples().get(b);
      assertTrue(
          Arrays.equals(
              s.pixels(),
              Arrays.copyOfRange(
                  synthetic.pixels(), b * s.pixels().length, (b + 1) * s.pixels().length)));
      for (int i = 0; i < s.classes().length; i++) {
        logits[(b * FIELDS * frames + i) * C + (int) s.classes()[i]] = 10f;
        float expected = synthetic.classes()[b * FIELDS * frames + i];
        if (expected != CharacterSet.BLANK) {
          characters++;
          agree += s.classes()[i] == expected ? 1 : 0;
        }
      }
    }
    var read = OutputDecoder.decode(logits, docs.size(), frames);
    for (int b = 0; b < docs.size(); b++) {
      for (DocumentField f : DocumentField.values()) {
        assertEquals(docs.get(b).printed().get(f).text(), read.get(b).get(f).raw(), f + " " + b);
      }
    }
    double share = agree / (double) characters;
    System.out.println(
        "reviewed labels agree with the renderer's on " + share + " of character frames");
    assertTrue(
        share > 0.9, share + " of the character frames labelled as the renderer labels them");
  }

  @Test
  void shouldGiveNoWeightToAFieldWithoutALabelOrWithoutAnAlignment() {
    ModelConfig config = ModelConfig.tiny();
    int frames = config.frames(); // 16: at most 8 characters
    SyntheticDocument doc = ReviewedExports.render(TYPE, 1, 44).get(0);
    Map<DocumentField, String> labels = new EnumMap<>(DocumentField.class);
    labels.put(DocumentField.SURNAME, null); // not on the document
    labels.put(DocumentField.GIVEN_NAMES, "ABCDEFGHIJ"); // too long for 16 frames
    labels.put(DocumentField.DATE_OF_BIRTH, "14.02.1998"); // not canonical
    labels.put(DocumentField.NATIONALITY, "G#R"); // unreadable
    labels.put(DocumentField.SEX, "F");
    // DOCUMENT_NUMBER and EXPIRY_DATE were not asked for.
    float[] blank = new float[FIELDS * frames * C];
    for (int t = 0; t < FIELDS * frames; t++) {
      blank[t * C] = 5;
    }
    ReviewedTargets.Targets targets =
        ReviewedTargets.align(
            List.of(new ReviewedDocuments.Document(1, doc.image(), labels)),
            DocumentTypeSpec.forId(TYPE),
            config,
            (pixels, n) -> blank);
    assertEquals(new ReviewedTargets.Counts(1, 1, 3, 2, 1), targets.counts());
    ReviewedTargets.Sample s = targets.samples().get(0);
    for (DocumentField f : DocumentField.values()) {
      double weight = 0;
      int characters = 0;
      for (int t = 0; t < frames; t++) {
        weight += s.weights()[f.ordinal() * frames + t];
        characters += s.classes()[f.ordinal() * frames + t] != 0 ? 1 : 0;
      }
      if (f == DocumentField.SEX) {
        assertEquals(frames, weight, f.name());
        assertTrue(characters >= 2 && characters <= 4, characters + " frames of F");
      } else {
        assertEquals(0, weight, f.name());
      }
    }
  }
}
