package dev.docstream.training;

import dev.docstream.adapters.FieldFormat;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.inference.model.decoding.OutputDecoder;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.IdentitySampler;
import dev.docstream.training.synth.SyntheticDocument;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Measures how well a model reads one document type: field exact-match (the share of fields whose
 * normalised value equals the ground truth), character accuracy (1 - edit distance / length), and
 * how well its confidences say which fields are right (expected calibration error, before and after
 * the adapter's confidence temperature).
 */
public final class Evaluation {
  /**
   * Fields read with a confidence below this are the ones a results router would send to human
   * review ({@code qc.review}, reason LOW_CONFIDENCE); the evaluation reports how many that is and
   * how many of the misread fields it catches.
   */
  public static final double REVIEW_BELOW = 0.5;

  /**
   * Scores on one document type; {@code byField}: exact-match of each field on its own; {@code
   * reviewShare}: the share of fields read with a confidence below {@link #REVIEW_BELOW}; {@code
   * misreadsInReview}: the share of misread fields among them (NaN when none was misread); {@code
   * calibrationError}: the expected calibration error ({@link
   * TemperatureFit#expectedCalibrationError}) of the confidences as served, at the temperature
   * scored with; {@code uncalibratedError}: the same at temperature 1, the model's own probability.
   * The review share is of the confidences as served.
   */
  public record Score(
      String documentType,
      int documents,
      double fieldExactMatch,
      double characterAccuracy,
      Map<DocumentField, Double> byField,
      double reviewShare,
      double misreadsInReview,
      double calibrationError,
      double uncalibratedError) {}

  private Evaluation() {}

  /** Fixed test documents for a type: the same seed gives the same documents everywhere. */
  public static List<SyntheticDocument> testDocuments(String type, int count, long seed) {
    DocumentTypeSpec spec = DocumentTypeSpec.forId(type);
    Random rnd = new Random(seed ^ DocumentTypeSpec.forId(type).id().hashCode());
    List<SyntheticDocument> docs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      docs.add(
          DocumentRenderer.render(
              spec, IdentitySampler.sample(spec, rnd), DocumentRenderer.Augmentation.MILD, rnd));
    }
    return docs;
  }

  /** Scores the model on the given documents of one type, in batches of 32. */
  public static Score score(Extractor extractor, String type, List<SyntheticDocument> docs) {
    return score(extractor, type, docs, Map.of());
  }

  /**
   * As {@link #score(Extractor, String, List)}, reading the fields in {@code formats} as text of
   * their format.
   */
  public static Score score(
      Extractor extractor,
      String type,
      List<SyntheticDocument> docs,
      Map<DocumentField, FieldFormat> formats) {
    return score(extractor, type, docs, formats, 1);
  }

  /**
   * As {@link #score(Extractor, String, List, Map)}, each confidence at {@code temperature} (the
   * merged adapter's), and at 1 for the uncalibrated error.
   */
  public static Score score(
      Extractor extractor,
      String type,
      List<SyntheticDocument> docs,
      Map<DocumentField, FieldFormat> formats,
      double temperature) {
    int frames = extractor.block().config().frames();
    int n = docs.size() * DocumentField.values().length;
    double[] served = new double[n];
    double[] uncalibrated = new double[n];
    boolean[] right = new boolean[n];
    long exact = 0;
    double chars = 0;
    int fields = 0;
    int[] exactByField = new int[DocumentField.values().length];
    int review = 0;
    int misreads = 0;
    int misreadsInReview = 0;
    for (int from = 0; from < docs.size(); from += 32) {
      List<SyntheticDocument> chunk = docs.subList(from, Math.min(docs.size(), from + 32));
      List<BufferedImage> images = chunk.stream().map(SyntheticDocument::image).toList();
      float[] logits = extractor.logits(images);
      List<Map<DocumentField, FieldReading>> readings =
          OutputDecoder.decode(logits, images.size(), frames, formats, temperature);
      List<Map<DocumentField, FieldReading>> atOne =
          temperature == 1
              ? readings
              : OutputDecoder.decode(logits, images.size(), frames, formats);
      for (int i = 0; i < chunk.size(); i++) {
        Map<DocumentField, String> truth = chunk.get(i).identity().groundTruth();
        for (DocumentField f : DocumentField.values()) {
          String expected = truth.get(f);
          FieldReading reading = readings.get(i).get(f);
          String actual = reading.value();
          boolean inReview = reading.confidence() < REVIEW_BELOW;
          review += inReview ? 1 : 0;
          served[fields] = reading.confidence();
          uncalibrated[fields] = atOne.get(i).get(f).confidence();
          right[fields] = expected.equals(actual);
          if (expected.equals(actual)) {
            exact++;
            exactByField[f.ordinal()]++;
          } else {
            misreads++;
            misreadsInReview += inReview ? 1 : 0;
          }
          chars += characterAccuracy(expected, actual);
          fields++;
        }
      }
    }
    Map<DocumentField, Double> byField = new EnumMap<>(DocumentField.class);
    for (DocumentField f : DocumentField.values()) {
      byField.put(f, (double) exactByField[f.ordinal()] / docs.size());
    }
    return new Score(
        type,
        docs.size(),
        (double) exact / fields,
        chars / fields,
        byField,
        (double) review / fields,
        misreads == 0 ? Double.NaN : (double) misreadsInReview / misreads,
        TemperatureFit.expectedCalibrationError(served, right),
        TemperatureFit.expectedCalibrationError(uncalibrated, right));
  }

  /** 1 - Levenshtein distance / expected length, floored at 0. */
  static double characterAccuracy(String expected, String actual) {
    int[] prev = new int[actual.length() + 1];
    int[] cur = new int[actual.length() + 1];
    for (int j = 0; j <= actual.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= expected.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= actual.length(); j++) {
        int sub = prev[j - 1] + (expected.charAt(i - 1) == actual.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return Math.max(0, 1 - (double) prev[actual.length()] / Math.max(1, expected.length()));
  }
}
