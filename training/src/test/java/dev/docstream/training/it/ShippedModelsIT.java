package dev.docstream.training.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.training.EvaluationTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped base model and adapters load, pass validation, and reproduce the evaluation table
 * published in docs/evaluation (the README's table) on the same fixed test documents.
 */
class ShippedModelsIT {
  private static final Path ROOT = Path.of(System.getProperty("docstream.root", ".."));

  @TempDir Path out;

  @Test
  void shouldReproduceThePublishedEvaluation() throws Exception {
    JsonNode published =
        new ObjectMapper().readTree(ROOT.resolve("docs/evaluation/evaluation.json").toFile());
    List<String> types = new ArrayList<>();
    for (JsonNode row : published) {
      if (!types.contains(row.get("document_type").asText())) {
        types.add(row.get("document_type").asText());
      }
    }
    assertFalse(types.isEmpty());
    // Only the base and the shipped adapters: the sweep runs are not shipped.
    List<EvaluationTable.Row> rows =
        EvaluationTable.run(
            ROOT.resolve("models/base"),
            ROOT.resolve("models/adapters"),
            null,
            types,
            List.of(),
            200,
            99,
            true,
            out);
    int compared = 0;
    for (EvaluationTable.Row r : rows) {
      for (JsonNode p : published) {
        if (p.get("document_type").asText().equals(r.type())
            && p.get("model").asText().equals(r.variant())) {
          assertEquals(
              p.get("field_exact_match").asDouble(),
              r.exactMatch(),
              0.01,
              r.type() + " " + r.variant());
          assertEquals(
              p.get("character_accuracy").asDouble(),
              r.charAccuracy(),
              0.01,
              r.type() + " " + r.variant());
          assertEquals(
              p.get("review_share").asDouble(),
              r.reviewShare(),
              0.01,
              r.type() + " " + r.variant());
          compared++;
        }
      }
    }
    assertEquals(2 * types.size(), compared, "base and shipped adapter for every published type");
  }
}
