package dev.docstream.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.internal.BatchData;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.internal.ReviewedTargets;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.DocumentTypes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adapter training with reviewed documents mixed in, on the tiny model configuration. */
class ReviewedTrainingTest {
  private static final ModelConfig TINY = ModelConfig.tiny();
  private static final String TYPE = DocumentTypes.heldOut(1).get(0);

  @TempDir Path dir;

  @Test
  void shouldEndEveryBatchWithItsShareOfReviewedDocumentsCycled() throws Exception {
    List<ReviewedDocuments.Document> docs = reviewed(3);
    ReviewedTargets.Targets targets;
    try (ExtractionTrainer trainer =
        new ExtractionTrainer(
            new ExtractionModel(TINY), new ExtractionTrainer.Options(4, 8, 0.003f, 1, 1.0f))) {
      targets = ReviewedTargets.align(docs, DocumentTypeSpec.forId(TYPE), TINY, trainer::logits);
      Map<Integer, Integer> seen = new HashMap<>();
      try (DocumentStream stream =
          new DocumentStream(List.of(TYPE), 8, TINY, 5, targets.samples(), 2)) {
        for (int b = 0; b < 3; b++) {
          BatchData batch = stream.next();
          assertEquals(8, batch.size());
          assertEquals(6, batch.documents().size());
          assertEquals(2, batch.reviewed());
          int input = TINY.imageHeight() * TINY.imageWidth();
          for (int i = 6; i < 8; i++) {
            float[] pixels = Arrays.copyOfRange(batch.pixels(), i * input, (i + 1) * input);
            int sample = indexOf(targets.samples(), pixels);
            assertTrue(sample >= 0, "image " + i + " is a reviewed one");
            seen.merge(sample, 1, Integer::sum);
          }
          float[] rows = batch.rows();
          int cells = TINY.gridHeight() * TINY.gridWidth() * DocumentField.values().length;
          for (int i = 6 * cells; i < 8 * cells; i++) {
            assertEquals(0f, rows[i], "no row-attention target for a reviewed image");
          }
          float loss = trainer.step(batch);
          assertTrue(Float.isFinite(loss), "loss " + loss);
        }
      }
      // 6 reviewed slots over 3 documents: two passes, each document twice.
      assertEquals(Map.of(0, 2, 1, 2, 2, 2), seen);
    }
  }

  @Test
  void shouldTrainAnAdapterWithReviewedDocumentsAndContinueFromIt() throws Exception {
    Path base = dir.resolve("base");
    BaseTraining.run(TINY, new ExtractionTrainer.Options(6, 8, 0.003f, 2, 1.0f), 20, 3, base);
    Path export = dir.resolve("export");
    ReviewedExports.write(export, ReviewedExports.render(TYPE, 5, 17));
    ExtractionTrainer.Options options = new ExtractionTrainer.Options(6, 8, 0.01f, 2, 1.0f);
    Path first = dir.resolve("first");
    // Training throws when a loss is not finite, so finishing means every step's loss was.
    PeftAdapter trained =
        AdapterTraining.trainAdapter(
            base,
            TYPE,
            LoraSpec.allLinear(2),
            options,
            5,
            first,
            new AdapterTraining.Inputs(null, export, 0.25));
    assertTrue(Files.exists(first.resolve(PeftAdapter.WEIGHTS)));
    PeftAdapter synthetic =
        AdapterTraining.trainAdapter(
            base, TYPE, LoraSpec.allLinear(2), options, 5, dir.resolve("synthetic"));
    assertTrue(
        !trained.modules().equals(synthetic.modules()), "the reviewed documents changed training");

    PeftAdapter continued =
        AdapterTraining.trainAdapter(
            base,
            TYPE,
            LoraSpec.allLinear(2),
            new ExtractionTrainer.Options(2, 8, 0.01f, 1, 1.0f),
            6,
            dir.resolve("continued"),
            new AdapterTraining.Inputs(first, export, 0.5));
    assertEquals(trained.modules().keySet(), continued.modules().keySet());

    AdapterFormatException otherRank =
        assertThrows(
            AdapterFormatException.class,
            () ->
                AdapterTraining.trainAdapter(
                    base,
                    TYPE,
                    LoraSpec.allLinear(4),
                    options,
                    5,
                    dir.resolve("refused"),
                    new AdapterTraining.Inputs(first, null, 0.25)));
    assertTrue(otherRank.getMessage().contains("rank 2"), otherRank.getMessage());
    ReviewedDocuments.RefusedException none =
        assertThrows(
            ReviewedDocuments.RefusedException.class,
            () ->
                AdapterTraining.trainAdapter(
                    base,
                    DocumentTypes.heldOut(2).get(1),
                    LoraSpec.allLinear(2),
                    options,
                    5,
                    dir.resolve("refused"),
                    new AdapterTraining.Inputs(null, export, 0.25)));
    assertTrue(none.getMessage().contains("holds no reviewed document"), none.getMessage());
  }

  @Test
  void shouldTakeTheShareOfEachBatchRoundedAndLeaveASyntheticDocument() {
    Path export = Path.of("export");
    assertEquals(8, new AdapterTraining.Inputs(null, export, 0.25).reviewedPerBatch(32));
    assertEquals(1, new AdapterTraining.Inputs(null, export, 0.01).reviewedPerBatch(32));
    assertEquals(31, new AdapterTraining.Inputs(null, export, 0.99).reviewedPerBatch(32));
    assertEquals(0, AdapterTraining.Inputs.SYNTHETIC.reviewedPerBatch(32));
    assertThrows(IllegalArgumentException.class, () -> new AdapterTraining.Inputs(null, export, 1));
    assertThrows(IllegalArgumentException.class, () -> new AdapterTraining.Inputs(null, export, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new AdapterTraining.Inputs(null, export, 0.5).reviewedPerBatch(1));
  }

  private List<ReviewedDocuments.Document> reviewed(int n) throws Exception {
    Path export = dir.resolve("export-" + n);
    ReviewedExports.write(export, ReviewedExports.render(TYPE, n, 23));
    return ReviewedDocuments.read(export, TYPE);
  }

  private static int indexOf(List<ReviewedTargets.Sample> samples, float[] pixels) {
    for (int i = 0; i < samples.size(); i++) {
      if (Arrays.equals(samples.get(i).pixels(), pixels)) {
        return i;
      }
    }
    return -1;
  }
}
