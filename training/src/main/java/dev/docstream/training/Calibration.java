package dev.docstream.training;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.FieldFormat;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.inference.model.decoding.OutputDecoder;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.SyntheticDocument;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.DoubleFunction;

/**
 * Fits an adapter's confidence temperature ({@code docstream_confidence_temperature}, see {@link
 * TemperatureFit}) on held-out synthetic documents of its type: after training ({@link
 * AdapterTraining}), and for adapters already trained ({@code docstream train calibrate}, which
 * rewrites their configs in place).
 *
 * <p>The fitting documents have their own seed, {@link #FIT_SEED}, so that the evaluation's
 * documents (seed {@link HeldOutEvaluator#SEED}) measure the calibrated confidences on documents
 * the fit has not seen.
 */
public final class Calibration {
  /**
   * Seed of the fitting documents: not the evaluation's 99, nor a training seed (7, 8, 11, 21-23).
   */
  public static final long FIT_SEED = 61;

  /** Fitting documents per adapter (7 fields each). */
  public static final int DOCUMENTS = 128;

  private Calibration() {}

  /**
   * A fit, and how the confidences did on the fitting documents before (T = 1) and after.
   *
   * @param misreads fields of the fitting documents read wrong
   */
  public record Fit(
      String documentType,
      double temperature,
      int fields,
      int misreads,
      double nllBefore,
      double nllAfter,
      double eceBefore,
      double eceAfter) {}

  /**
   * What {@link #calibrateFolders} did to one adapter: its fit, the temperature its config had
   * before, and on the evaluation documents its exact-match and calibration error before and after
   * (NaN when no evaluation documents were asked for).
   */
  public record Report(
      Fit fit, double previousTemperature, double exactMatch, double eceBefore, double eceAfter) {}

  /**
   * Fits the temperature of the model as it is now (an adapter merged, or not) on {@code docs} of
   * {@code type}, read with {@code formats}.
   */
  public static Fit fit(
      Extractor extractor,
      String type,
      Map<DocumentField, FieldFormat> formats,
      List<SyntheticDocument> docs) {
    int frames = extractor.block().config().frames();
    List<float[]> logits = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (int from = 0; from < docs.size(); from += 32) {
      List<BufferedImage> images =
          docs.subList(from, Math.min(docs.size(), from + 32)).stream()
              .map(SyntheticDocument::image)
              .toList();
      logits.add(extractor.logits(images));
      sizes.add(images.size());
    }
    // The values read do not depend on the temperature, so which fields are right is fixed.
    boolean[] correct = new boolean[docs.size() * DocumentField.values().length];
    int k = 0;
    int doc = 0;
    for (int c = 0; c < logits.size(); c++) {
      for (Map<DocumentField, FieldReading> r :
          OutputDecoder.decode(logits.get(c), sizes.get(c), frames, formats)) {
        Map<DocumentField, String> truth = docs.get(doc++).identity().groundTruth();
        for (DocumentField f : DocumentField.values()) {
          correct[k++] = truth.get(f).equals(r.get(f).value());
        }
      }
    }
    DoubleFunction<double[]> at =
        t -> {
          double[] p = new double[correct.length];
          int i = 0;
          for (int c = 0; c < logits.size(); c++) {
            for (Map<DocumentField, FieldReading> r :
                OutputDecoder.decode(logits.get(c), sizes.get(c), frames, formats, t)) {
              for (DocumentField f : DocumentField.values()) {
                p[i++] = r.get(f).confidence();
              }
            }
          }
          return p;
        };
    double temperature = TemperatureFit.fit(at, correct);
    double[] before = at.apply(1);
    double[] after = at.apply(temperature);
    int misreads = 0;
    for (boolean c : correct) {
      misreads += c ? 0 : 1;
    }
    return new Fit(
        type,
        temperature,
        correct.length,
        misreads,
        TemperatureFit.negativeLogLikelihood(before, correct),
        TemperatureFit.negativeLogLikelihood(after, correct),
        TemperatureFit.expectedCalibrationError(before, correct),
        TemperatureFit.expectedCalibrationError(after, correct));
  }

  /**
   * Merges {@code adapter}, fits its temperature on {@code documents} documents of its type (seed
   * {@code seed}), and restores the base model.
   */
  public static Fit fit(
      Extractor extractor, MergeEngine merge, PeftAdapter adapter, int documents, long seed) {
    String type = adapter.config().documentType();
    try (LoadedAdapter loaded = new LoadedAdapter(type, adapter, extractor.manager())) {
      merge.merge(loaded);
      try {
        return fit(
            extractor,
            type,
            adapter.config().fieldFormats(),
            Evaluation.testDocuments(type, documents, seed));
      } finally {
        merge.restoreBase();
      }
    }
  }

  /**
   * The adapter just trained on {@code base}, with its fitted temperature ({@link #DOCUMENTS}
   * documents, {@link #FIT_SEED}); says what the fit did on stderr.
   */
  static PeftAdapter calibrated(Path base, PeftAdapter adapter) throws IOException {
    Fit fit;
    try (Extractor extractor = Extractor.load(base);
        MergeEngine merge =
            new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      fit = fit(extractor, merge, adapter, DOCUMENTS, FIT_SEED);
    }
    System.err.println("calibrate: " + describe(fit));
    return new PeftAdapter(
        adapter.config().withConfidenceTemperature(fit.temperature()), adapter.modules());
  }

  /**
   * Fits the temperature of each adapter folder {@code <adapters>/<type>} and rewrites its {@code
   * adapter_config.json} in place ({@link AdapterConfig#rewriteConfidenceTemperature}); scores each
   * on {@code evalDocuments} documents of seed {@code evalSeed} before (T = 1) and after.
   *
   * @param out one line per adapter as it is done
   */
  public static List<Report> calibrateFolders(
      Path base,
      Path adapters,
      List<String> types,
      int documents,
      long seed,
      int evalDocuments,
      long evalSeed,
      Consumer<String> out)
      throws IOException, AdapterFormatException {
    List<Report> reports = new ArrayList<>();
    String sha = ModelCheckpoint.checksum(base);
    Progress progress = new Progress("calibrate", types.size());
    try (Extractor extractor = Extractor.load(base);
        MergeEngine merge =
            new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      Map<String, int[]> shapes = extractor.block().moduleShapes();
      progress.update(0, "");
      for (String type : types) {
        Path dir = adapters.resolve(type);
        PeftAdapter adapter = PeftAdapter.read(dir, sha, shapes);
        Fit fit = fit(extractor, merge, adapter, documents, seed);
        Report report = evaluate(extractor, merge, adapter, fit, evalDocuments, evalSeed);
        AdapterConfig.rewriteConfidenceTemperature(dir, fit.temperature());
        reports.add(report);
        out.accept(describe(report, evalDocuments, evalSeed));
        progress.update(reports.size(), type);
      }
    }
    return reports;
  }

  private static Report evaluate(
      Extractor extractor,
      MergeEngine merge,
      PeftAdapter adapter,
      Fit fit,
      int documents,
      long seed) {
    double previous = adapter.config().confidenceTemperature();
    if (documents == 0) {
      return new Report(fit, previous, Double.NaN, Double.NaN, Double.NaN);
    }
    String type = adapter.config().documentType();
    try (LoadedAdapter loaded = new LoadedAdapter(type, adapter, extractor.manager())) {
      merge.merge(loaded);
      try {
        Evaluation.Score s =
            Evaluation.score(
                extractor,
                type,
                Evaluation.testDocuments(type, documents, seed),
                adapter.config().fieldFormats(),
                fit.temperature());
        return new Report(
            fit, previous, s.fieldExactMatch(), s.uncalibratedError(), s.calibrationError());
      } finally {
        merge.restoreBase();
      }
    }
  }

  private static String describe(Fit f) {
    return String.format(
        "%s T %.3g (fit on %d fields, %d misread: NLL %.4f -> %.4f, ECE %.4f -> %.4f)",
        f.documentType(),
        f.temperature(),
        f.fields(),
        f.misreads(),
        f.nllBefore(),
        f.nllAfter(),
        f.eceBefore(),
        f.eceAfter());
  }

  private static String describe(Report r, int documents, long seed) {
    String was =
        r.previousTemperature() == 1 ? "" : String.format(" (was %.3g)", r.previousTemperature());
    String eval =
        documents == 0
            ? ""
            : String.format(
                "; on %d evaluation documents (seed %d): exact-match %.2f %%, ECE %.4f -> %.4f",
                documents, seed, 100 * r.exactMatch(), r.eceBefore(), r.eceAfter());
    return describe(r.fit()) + was + eval;
  }
}
