package dev.docstream.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.internal.BatchData;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.internal.FrameLoss;
import dev.docstream.training.synth.DocumentTypes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training on the tiny model configuration: seconds per test. */
class TrainingTest {
  private static final ModelConfig TINY = ModelConfig.tiny();
  private static final ExtractionTrainer.Options OPTIONS =
      new ExtractionTrainer.Options(40, 8, 0.003f, 5, 1.0f);

  @TempDir Path dir;

  private static BatchData fixedBatch() throws InterruptedException {
    try (DocumentStream s = new DocumentStream(BaseTraining.baseTypes(20), 8, TINY, 1)) {
      return s.next();
    }
  }

  @Test
  void shouldLowerTheLossWhenTraining() throws Exception {
    BatchData batch = fixedBatch();
    try (ExtractionTrainer trainer = new ExtractionTrainer(new ExtractionModel(TINY), OPTIONS)) {
      List<Float> losses = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        losses.add(trainer.step(batch));
      }
      float first = (losses.get(0) + losses.get(1) + losses.get(2)) / 3;
      float last = (losses.get(37) + losses.get(38) + losses.get(39)) / 3;
      assertTrue(last < 0.7f * first, "loss went from " + first + " to " + last);
    }
  }

  @Test
  void shouldKeepGradientsFiniteWhenGarbageCollectionRunsBetweenForwardAndBackward()
      throws Exception {
    // DJL frees a temporary scalar made by NDArray.add/mul/div(Number) when the Java object is
    // collected, even while autograd still needs it; the model and loss avoid Number operands.
    BatchData batch = fixedBatch();
    ExtractionModel block = new ExtractionModel(TINY, LoraSpec.allLinear(2));
    try (ExtractionTrainer trainer = new ExtractionTrainer(block, OPTIONS);
        NDManager m = trainer.manager().newSubManager()) {
      int fields = DocumentField.values().length;
      NDArray x = m.create(batch.pixels(), block.inputShape(8));
      NDArray classes = m.create(batch.classes(), new Shape(8, fields, TINY.frames()));
      NDArray weights = m.create(batch.weights(), new Shape(8, fields, TINY.frames()));
      NDArray rows =
          m.create(batch.rows(), new Shape(8, TINY.gridHeight(), TINY.gridWidth(), fields));
      for (int round = 0; round < 5; round++) {
        try (GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
          NDList pred =
              block.forward(new ai.djl.training.ParameterStore(m, false), new NDList(x), true);
          NDArray loss = new FrameLoss().evaluate(new NDList(classes, weights, rows), pred);
          System.gc();
          Thread.sleep(20);
          System.gc();
          gc.backward(loss);
        }
        for (var p : block.getParameters()) {
          float[] g = p.getValue().getArray().getGradient().toFloatArray();
          for (float v : g) {
            assertTrue(Float.isFinite(v), "non-finite gradient in " + p.getKey());
          }
        }
      }
    }
  }

  @Test
  void shouldScaleOnlyTheLoraBLearningRateWithTheLoraPlusRatio() throws Exception {
    BatchData batch = fixedBatch();
    // Ratio 0: lora_B must not move at all while lora_A (and the rest) still learn.
    ExtractionModel block = new ExtractionModel(TINY, LoraSpec.allLinear(2));
    try (ExtractionTrainer trainer =
        new ExtractionTrainer(block, new ExtractionTrainer.Options(3, 8, 0.01f, 1, 1.0f, 0f))) {
      var layer = block.linears().values().iterator().next();
      float[] a0 = layer.loraA().getArray().toFloatArray();
      float[] b0 = layer.loraB().getArray().toFloatArray();
      assertTrue(maxAbs(b0) > 0, "Xavier gives lora_B non-zero values here, so A gets a gradient");
      for (int i = 0; i < 3; i++) {
        trainer.step(batch);
      }
      assertTrue(
          java.util.Arrays.equals(b0, layer.loraB().getArray().toFloatArray()),
          "lora_B moved at ratio 0");
      assertTrue(
          !java.util.Arrays.equals(a0, layer.loraA().getArray().toFloatArray()),
          "lora_A did not move");
    }
  }

  @Test
  void shouldExportATrainedAdapterThatMergesToTheSameOutputs() throws Exception {
    Path base = dir.resolve("base");
    BaseTraining.run(TINY, new ExtractionTrainer.Options(10, 8, 0.003f, 2, 1.0f), 20, 3, base);
    String type = DocumentTypes.heldOut(1).get(0);
    Path out = dir.resolve("adapter");
    PeftAdapter trained =
        AdapterTraining.trainAdapter(
            base,
            type,
            LoraSpec.allLinear(4),
            new ExtractionTrainer.Options(10, 8, 0.01f, 2, 1.0f),
            5,
            out);

    // The written folder validates against the base it was trained on.
    try (Extractor extractor = Extractor.load(base);
        MergeEngine engine =
            new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      Map<String, int[]> shapes = extractor.block().moduleShapes();
      PeftAdapter read = PeftAdapter.read(out, ModelCheckpoint.checksum(base), shapes);
      assertEquals(trained, read);
      assertEquals(
          extractor.block().linears().size(),
          read.modules().size(),
          "every linear layer is adapted");
      assertTrue(
          read.modules().values().stream().anyMatch(p -> maxAbs(p.b().data()) > 0),
          "B moved away from zero");

      // The same adapter as a trainable LoRA model (training-mode forward) vs merged into the base.
      float[] pixels = fixedBatch().pixels();
      float[] merged;
      try (LoadedAdapter loaded = new LoadedAdapter(type, read, extractor.manager())) {
        engine.merge(loaded);
        merged = extractor.logits(pixels, 8);
        engine.restoreBase();
      }
      ExtractionModel lora = new ExtractionModel(TINY, LoraSpec.allLinear(4));
      try (Extractor withLora = Extractor.wrap(lora, base)) {
        lora.linears()
            .forEach(
                (path, l) -> {
                  l.loraA().getArray().set(read.modules().get(path).a().data());
                  l.loraB().getArray().set(read.modules().get(path).b().data());
                });
        float[] unmerged = withLora.logits(pixels, 8);
        float diff = 0;
        for (int i = 0; i < merged.length; i++) {
          diff = Math.max(diff, Math.abs(merged[i] - unmerged[i]));
        }
        assertTrue(diff < 1e-4, "merged vs LoRA forward differ by " + diff);
      }
    }
  }

  @Test
  void shouldFitAnAdapterFolderTemperatureAndRewriteOnlyThatKey() throws Exception {
    Path base = dir.resolve("base");
    BaseTraining.run(TINY, new ExtractionTrainer.Options(4, 8, 0.003f, 1, 1.0f), 20, 3, base);
    String type = DocumentTypes.heldOut(1).get(0);
    Path adapters = dir.resolve("adapters");
    PeftAdapter trained =
        AdapterTraining.trainAdapter(
            base,
            type,
            LoraSpec.allLinear(2),
            new ExtractionTrainer.Options(4, 8, 0.01f, 1, 1.0f),
            5,
            adapters.resolve(type));
    Path config = adapters.resolve(type).resolve(AdapterConfig.FILE);
    var json = (ObjectNode) new ObjectMapper().readTree(config.toFile());
    assertEquals(
        trained.config().confidenceTemperature(),
        json.path(AdapterConfig.TEMPERATURE_KEY).asDouble(1),
        "training wrote the temperature it fitted");
    json.remove(AdapterConfig.TEMPERATURE_KEY); // as the adapters shipped before calibration
    String before = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json);
    Files.writeString(config, before + "\n");

    List<String> lines = new ArrayList<>();
    List<Calibration.Report> reports =
        Calibration.calibrateFolders(
            base, adapters, List.of(type), 8, Calibration.FIT_SEED, 8, 99, lines::add);

    assertEquals(1, reports.size());
    assertEquals(1, lines.size());
    assertTrue(lines.get(0).startsWith(type + " T "), lines.get(0));
    String after = Files.readString(config);
    double t = reports.get(0).fit().temperature();
    assertTrue(
        after.startsWith(before.substring(0, before.lastIndexOf('}')).stripTrailing() + ","),
        "every other key as it was: " + after);
    var read =
        PeftAdapter.read(adapters.resolve(type), ModelCheckpoint.checksum(base), shapes(base));
    assertEquals(t, read.config().confidenceTemperature());
    assertEquals(trained.modules(), read.modules());
  }

  private static Map<String, int[]> shapes(Path base) throws Exception {
    try (Extractor e = Extractor.load(base)) {
      return e.block().moduleShapes();
    }
  }

  private static float maxAbs(float[] v) {
    float m = 0;
    for (float x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }
}
