package dev.docstream.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import dev.docstream.inference.lora.LoraLinear;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.synth.DocumentTypeSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Trains one document type's LoRA adapter with the base model frozen, and the full fine-tuning
 * baseline it is compared with.
 */
public final class AdapterTraining {
  /** Name adapters record as their base model. */
  public static final String BASE_MODEL_NAME = "docstream-extractor";

  private AdapterTraining() {}

  /**
   * Trains an adapter for {@code type}, fits its confidence temperature on held-out documents of
   * the type ({@link Calibration}: {@link Calibration#DOCUMENTS} documents of seed {@link
   * Calibration#FIT_SEED}, never the evaluation's), and writes it as a PEFT folder to {@code out}.
   *
   * @return the trained adapter, with its temperature
   */
  public static PeftAdapter trainAdapter(
      Path base, String type, LoraSpec lora, ExtractionTrainer.Options options, long seed, Path out)
      throws IOException, InterruptedException {
    Engine.getInstance().setRandomSeed((int) seed);
    ModelConfig config = ModelCheckpoint.readConfig(base);
    ExtractionModel block = new ExtractionModel(config, lora);
    try (ExtractionTrainer trainer = new ExtractionTrainer(block, options);
        DocumentStream data =
            new DocumentStream(List.of(type), options.batchSize(), config, seed)) {
      ModelCheckpoint.copyInto(block, base, trainer.manager());
      initLora(block, new Random(seed));
      for (Pair<String, Parameter> p : block.getParameters()) {
        boolean lo = p.getKey().endsWith("lora_A") || p.getKey().endsWith("lora_B");
        p.getValue().freeze(!lo);
      }
      trainer.train(data, "adapter " + type + " r=" + lora.rank(), Integer.MAX_VALUE, null);
      PeftAdapter adapter =
          Calibration.calibrated(base, export(block, lora, type, ModelCheckpoint.checksum(base)));
      adapter.write(out);
      return adapter;
    }
  }

  /** Fine-tunes every base parameter on {@code type}; writes a full checkpoint to {@code out}. */
  public static void fullFineTune(
      Path base, String type, ExtractionTrainer.Options options, long seed, Path out)
      throws IOException, InterruptedException {
    Engine.getInstance().setRandomSeed((int) seed);
    ModelConfig config = ModelCheckpoint.readConfig(base);
    ExtractionModel block = new ExtractionModel(config);
    try (ExtractionTrainer trainer = new ExtractionTrainer(block, options);
        DocumentStream data =
            new DocumentStream(List.of(type), options.batchSize(), config, seed)) {
      ModelCheckpoint.copyInto(block, base, trainer.manager());
      trainer.train(data, "full fine-tune " + type, Integer.MAX_VALUE, null);
      ModelCheckpoint.save(block, out);
    }
  }

  /**
   * PEFT's initialisation: A Kaiming-uniform (bound 1/sqrt(in)), B zero, so training starts at the
   * base model.
   */
  static void initLora(ExtractionModel block, Random rnd) {
    for (LoraLinear l : block.linears().values()) {
      if (l.loraA() == null) {
        continue;
      }
      NDArray a = l.loraA().getArray();
      float bound = (float) (1 / Math.sqrt(l.inFeatures()));
      float[] values = new float[(int) a.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = (rnd.nextFloat() * 2 - 1) * bound;
      }
      a.set(values);
      NDArray b = l.loraB().getArray();
      b.set(new float[(int) b.size()]);
    }
  }

  /** The trained A and B of every adapted layer, as a PEFT adapter. */
  static PeftAdapter export(ExtractionModel block, LoraSpec lora, String type, String baseSha) {
    Map<String, PeftAdapter.LoraPair> modules = new LinkedHashMap<>();
    List<String> targets = new ArrayList<>();
    block
        .linears()
        .forEach(
            (path, l) -> {
              if (l.loraA() != null) {
                modules.put(
                    path,
                    new PeftAdapter.LoraPair(
                        tensor(l.loraA().getArray()), tensor(l.loraB().getArray())));
                targets.add(path);
              }
            });
    return new PeftAdapter(
        new AdapterConfig(
            lora.rank(),
            lora.alpha(),
            targets,
            BASE_MODEL_NAME,
            type,
            baseSha,
            1,
            DocumentTypeSpec.forId(type).fieldFormats()),
        modules);
  }

  private static Tensor tensor(NDArray a) {
    long[] s = a.getShape().getShape();
    int[] shape = new int[s.length];
    for (int i = 0; i < s.length; i++) {
      shape[i] = (int) s[i];
    }
    return new Tensor(shape, a.toFloatArray());
  }
}
