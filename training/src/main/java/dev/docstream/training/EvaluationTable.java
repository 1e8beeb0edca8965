package dev.docstream.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.SyntheticDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates, per held-out document type, the base model alone, every LoRA variant found, and full
 * fine-tuning, on the same fixed test documents; writes {@code evaluation.md} and {@code
 * evaluation.json}.
 *
 * <p>Variants are looked up per type: the shipped adapter {@code <adapters>/<type>}, sweep adapters
 * {@code <runs>/<type>/r<rank>}, and the full fine-tune {@code <runs>/<type>/full}.
 *
 * <p>With {@code formats} on, each variant reads as it is served: an adapter with the field formats
 * in its {@code adapter_config.json}, the full fine-tune with its document type's formats (it is a
 * per-type model too), the base model alone without any (served without an adapter, it knows no
 * type). Off, every variant reads free text.
 *
 * <p>An adapter's confidences are scored as served, at the temperature in its config ({@code
 * docstream_confidence_temperature}); the expected calibration error is given at that temperature
 * and at 1 (the model's own probability). The base alone and full fine-tuning have no temperature.
 */
public final class EvaluationTable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private EvaluationTable() {}

  /**
   * One evaluated variant; {@code temperature} is its confidence temperature (1: none), {@code ece}
   * the expected calibration error at it, {@code eceUncalibrated} at 1.
   */
  public record Row(
      String type,
      String variant,
      double exactMatch,
      double charAccuracy,
      double sizeShare,
      Map<DocumentField, Double> byField,
      double reviewShare,
      double misreadsInReview,
      double temperature,
      double ece,
      double eceUncalibrated) {}

  public static List<Row> run(
      Path base,
      Path adapters,
      Path runs,
      List<String> types,
      List<Integer> ranks,
      int docs,
      long seed,
      boolean formats,
      Path out)
      throws IOException, dev.docstream.adapters.AdapterFormatException {
    List<Row> rows = new ArrayList<>();
    String sha = ModelCheckpoint.checksum(base);
    Progress progress = new Progress("evaluate", types.size());
    try (Extractor extractor = Extractor.load(base);
        MergeEngine engine =
            new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      Map<String, int[]> shapes = extractor.block().moduleShapes();
      long baseParams = 0;
      for (var p : extractor.block().getParameters()) {
        baseParams += p.getValue().getArray().size();
      }
      int done = 0;
      for (String type : types) {
        List<SyntheticDocument> test = Evaluation.testDocuments(type, docs, seed);
        rows.add(row(type, "base alone", Evaluation.score(extractor, type, test), 0, 1));
        Map<String, Path> variants = new LinkedHashMap<>();
        if (adapters != null && Files.isDirectory(adapters.resolve(type))) {
          variants.put("shipped", adapters.resolve(type));
        }
        for (int r : ranks) {
          if (runs != null && Files.isDirectory(runs.resolve(type).resolve("r" + r))) {
            variants.put("LoRA r=" + r, runs.resolve(type).resolve("r" + r));
          }
        }
        for (var v : variants.entrySet()) {
          PeftAdapter adapter = PeftAdapter.read(v.getValue(), sha, shapes);
          String name =
              v.getKey().equals("shipped")
                  ? "LoRA r=" + adapter.config().rank() + " (shipped)"
                  : v.getKey();
          try (LoadedAdapter loaded = new LoadedAdapter(type, adapter, extractor.manager())) {
            engine.merge(loaded);
            double t = adapter.config().confidenceTemperature();
            rows.add(
                row(
                    type,
                    name,
                    Evaluation.score(
                        extractor,
                        type,
                        test,
                        formats ? adapter.config().fieldFormats() : Map.of(),
                        t),
                    adapter.sizeBytes() / 4.0 / baseParams,
                    t));
            engine.restoreBase();
          }
        }
        if (runs != null && Files.isDirectory(runs.resolve(type).resolve("full"))) {
          try (Extractor full = Extractor.load(runs.resolve(type).resolve("full"))) {
            rows.add(
                row(
                    type,
                    "full fine-tune",
                    Evaluation.score(
                        full,
                        type,
                        test,
                        formats ? DocumentTypeSpec.forId(type).fieldFormats() : Map.of()),
                    1.0,
                    1));
          }
        }
        progress.update(++done, type);
      }
    }
    write(rows, out, docs, seed, formats);
    return rows;
  }

  private static Row row(
      String type, String variant, Evaluation.Score s, double share, double temperature) {
    return new Row(
        type,
        variant,
        s.fieldExactMatch(),
        s.characterAccuracy(),
        share,
        s.byField(),
        s.reviewShare(),
        s.misreadsInReview(),
        temperature,
        s.calibrationError(),
        s.uncalibratedError());
  }

  static void write(List<Row> rows, Path out, int docs, long seed, boolean formats)
      throws IOException {
    Files.createDirectories(out);
    StringBuilder md = new StringBuilder();
    md.append("Held-out document types, ")
        .append(docs)
        .append(" test documents each (seed ")
        .append(seed)
        .append("), 7 fields per document; ")
        .append(
            formats
                ? "adapters and full fine-tuning read the document number in its type's format, the base alone free text"
                : "every model reads free text (no field formats)")
        .append(". Review: the share of fields read with a ")
        .append("confidence below ")
        .append(Evaluation.REVIEW_BELOW)
        .append(" (what low-confidence QC sampling would ")
        .append("send to an analyst); misreads caught: the share of misread fields among them. ")
        .append("Confidences are as served: an adapter's at its confidence temperature T ")
        .append("(fitted on other documents, seed ")
        .append(Calibration.FIT_SEED)
        .append("); ECE: expected calibration error of the field confidences against field ")
        .append("exact-match (")
        .append(TemperatureFit.ECE_BINS)
        .append(" equal-width bins), before calibration (T = 1) and after.\n\n");
    md.append(
        "| document type | model | field exact-match | character accuracy | size vs base | review | misreads caught | T | ECE before | ECE after |\n");
    md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    ArrayNode json = JSON.createArrayNode();
    for (Row r : rows) {
      md.append(
          String.format(
              "| %s | %s | %.1f %% | %.1f %% | %s | %.1f %% | %s | %s | %.3f | %s |%n",
              r.type(),
              r.variant(),
              100 * r.exactMatch(),
              100 * r.charAccuracy(),
              r.sizeShare() == 0 ? "—" : String.format("%.1f %%", 100 * r.sizeShare()),
              100 * r.reviewShare(),
              Double.isNaN(r.misreadsInReview())
                  ? "—"
                  : String.format("%.1f %%", 100 * r.misreadsInReview()),
              r.temperature() == 1 ? "—" : String.format("%.3g", r.temperature()),
              r.eceUncalibrated(),
              r.temperature() == 1 ? "—" : String.format("%.3f", r.ece())));
      ObjectNode n = json.addObject();
      n.put("document_type", r.type());
      n.put("model", r.variant());
      n.put("field_exact_match", r.exactMatch());
      n.put("character_accuracy", r.charAccuracy());
      n.put("size_share_of_base", r.sizeShare());
      n.put("review_share", r.reviewShare());
      if (!Double.isNaN(r.misreadsInReview())) {
        n.put("misreads_in_review", r.misreadsInReview());
      }
      n.put("confidence_temperature", r.temperature());
      n.put("ece_uncalibrated", r.eceUncalibrated());
      n.put("ece", r.ece());
      ObjectNode fields = n.putObject("field_exact_match_by_field");
      r.byField().forEach((f, v) -> fields.put(f.name(), v));
    }
    Files.writeString(out.resolve("evaluation.md"), md.toString());
    Files.writeString(
        out.resolve("evaluation.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n");
  }
}
