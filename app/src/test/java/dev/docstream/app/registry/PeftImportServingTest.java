package dev.docstream.app.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.Evaluation;
import dev.docstream.training.synth.SyntheticDocument;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shipped adapter's weights under a PEFT-0.19-style adapter_config.json (short target names, no
 * docstream_ keys) read as the same adapter and serve exactly the same fields and confidences.
 */
class PeftImportServingTest {
  static final Path MODELS = Path.of(System.getProperty("docstream.models", "../models"));
  static final String TYPE = "GBR-PASSPORT-2000";

  @TempDir Path dir;

  @Test
  void shouldServeThePeftStyleAdapterExactlyAsTheOriginal() throws Exception {
    Path base = MODELS.resolve("base");
    Path shipped = MODELS.resolve("adapters").resolve(TYPE);
    Path imported = PeftConfigs.peft019(shipped, dir.resolve("peft"), c -> {});
    String sha = ModelCheckpoint.checksum(base);
    try (Extractor extractor = Extractor.load(base);
        MergeEngine merge =
            new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      Map<String, int[]> shapes = extractor.block().moduleShapes();
      PeftAdapter original = PeftAdapter.read(shipped, sha, shapes);
      PeftAdapter peft =
          PeftAdapter.read(imported, sha, shapes, new AdapterConfig.Defaults(TYPE, sha));
      assertEquals(original.modules().keySet(), peft.modules().keySet());
      assertEquals(original.config().scale(), peft.config().scale());
      List<BufferedImage> images =
          Evaluation.testDocuments(TYPE, 16, 5).stream().map(SyntheticDocument::image).toList();
      List<Map<DocumentField, FieldReading>> a = extract(extractor, merge, original, images);
      List<Map<DocumentField, FieldReading>> b = extract(extractor, merge, peft, images);
      assertEquals(a, b, "the same values and confidences, field by field");
    }
  }

  private static List<Map<DocumentField, FieldReading>> extract(
      Extractor extractor, MergeEngine merge, PeftAdapter adapter, List<BufferedImage> images) {
    try (LoadedAdapter loaded = new LoadedAdapter(TYPE, adapter, extractor.manager())) {
      merge.merge(loaded);
      try {
        return extractor.extract(images, Map.of()); // a PEFT config carries no field formats
      } finally {
        merge.restoreBase();
      }
    }
  }
}
