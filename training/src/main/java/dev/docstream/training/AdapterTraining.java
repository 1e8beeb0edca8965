package dev.docstream.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import dev.docstream.inference.lora.LoraLinear;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.internal.ReviewedTargets;
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
   * What an adapter's training starts from and learns from besides synthetic documents.
   *
   * @param init an adapter folder of the type to continue from (its rank and scale), or null for a
   *     fresh adapter (B = 0: training starts at the base model)
   * @param reviewed a {@code docstream qc export} folder ({@link ReviewedDocuments}) whose
   *     documents of the type are mixed into every batch, or null for synthetic documents only
   * @param reviewedShare the share of each batch drawn from the reviewed documents, in (0, 1)
   */
  public record Inputs(Path init, Path reviewed, double reviewedShare) {
    /** Default of {@code reviewedShare}. */
    public static final double DEFAULT_REVIEWED_SHARE = 0.25;

    /** A fresh adapter trained on synthetic documents only, as the shipped adapters were. */
    public static final Inputs SYNTHETIC = new Inputs(null, null, DEFAULT_REVIEWED_SHARE);

    public Inputs {
      if (!(reviewedShare > 0 && reviewedShare < 1)) {
        throw new IllegalArgumentException(
            "the reviewed share must be above 0 and below 1, got " + reviewedShare);
      }
    }

    /**
     * Reviewed documents per batch: the share of {@code batchSize}, rounded, at least one and at
     * most all but one (a synthetic document keeps the row-attention target in every batch).
     */
    public int reviewedPerBatch(int batchSize) {
      if (reviewed == null) {
        return 0;
      }
      if (batchSize < 2) {
        throw new IllegalArgumentException(
            "a batch of " + batchSize + " has no room for reviewed documents: use 2 or more");
      }
      return (int) Math.max(1, Math.min(batchSize - 1, Math.round(reviewedShare * batchSize)));
    }
  }

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
    try {
      return trainAdapter(base, type, lora, options, seed, out, Inputs.SYNTHETIC);
    } catch (AdapterFormatException e) {
      throw new IllegalStateException("no adapter folder is read without Inputs.init", e);
    }
  }

  /**
   * As {@link #trainAdapter(Path, String, LoraSpec, ExtractionTrainer.Options, long, Path)}, from
   * and on {@code inputs}. With reviewed documents, they are aligned once, before the first step,
   * by the model as training starts from (the base, with the {@code init} adapter where one is
   * given; {@link ReviewedTargets}), and each batch ends with its share of them, cycled.
   *
   * @throws ReviewedDocuments.RefusedException when the reviewed folder cannot be read, or holds no
   *     document of the type
   * @throws AdapterFormatException when the {@code init} adapter cannot be read, or does not fit:
   *     another type, rank, scale or set of layers
   */
  public static PeftAdapter trainAdapter(
      Path base,
      String type,
      LoraSpec lora,
      ExtractionTrainer.Options options,
      long seed,
      Path out,
      Inputs inputs)
      throws IOException, InterruptedException, AdapterFormatException {
    int reviewedPerBatch = inputs.reviewedPerBatch(options.batchSize());
    List<ReviewedDocuments.Document> reviewed = List.of();
    if (inputs.reviewed() != null) {
      reviewed = ReviewedDocuments.read(inputs.reviewed(), type);
      if (reviewed.isEmpty()) {
        throw new ReviewedDocuments.RefusedException(
            inputs.reviewed() + " holds no reviewed document of " + type);
      }
    }
    Engine.getInstance().setRandomSeed((int) seed);
    ModelConfig config = ModelCheckpoint.readConfig(base);
    ExtractionModel block = new ExtractionModel(config, lora);
    try (ExtractionTrainer trainer = new ExtractionTrainer(block, options)) {
      ModelCheckpoint.copyInto(block, base, trainer.manager());
      if (inputs.init() == null) {
        initLora(block, new Random(seed));
      } else {
        continueFrom(block, lora, type, inputs.init(), ModelCheckpoint.checksum(base));
      }
      for (Pair<String, Parameter> p : block.getParameters()) {
        boolean lo = p.getKey().endsWith("lora_A") || p.getKey().endsWith("lora_B");
        p.getValue().freeze(!lo);
      }
      List<ReviewedTargets.Sample> samples = List.of();
      if (!reviewed.isEmpty()) {
        ReviewedTargets.Targets targets =
            ReviewedTargets.align(reviewed, DocumentTypeSpec.forId(type), config, trainer::logits);
        if (targets.counts().aligned() == 0) {
          throw new ReviewedDocuments.RefusedException(
              inputs.reviewed() + ": no field of " + type + " could be aligned");
        }
        samples = targets.samples();
        System.err.println(
            "reviewed: "
                + type
                + " "
                + targets.counts().describe()
                + (inputs.init() == null
                    ? ", aligned by the base model alone"
                    : ", aligned by the base with the adapter continued from")
                + "; "
                + reviewedPerBatch
                + " of every "
                + options.batchSize()
                + " images");
      }
      try (DocumentStream data =
          new DocumentStream(
              List.of(type), options.batchSize(), config, seed, samples, reviewedPerBatch)) {
        trainer.train(data, "adapter " + type + " r=" + lora.rank(), Integer.MAX_VALUE, null);
      }
      PeftAdapter adapter =
          Calibration.calibrated(base, export(block, lora, type, ModelCheckpoint.checksum(base)));
      adapter.write(out);
      return adapter;
    }
  }

  /**
   * Sets every adapted layer's A and B to those of the adapter folder {@code init}, which must be
   * of {@code type}, on this base, with {@code lora}'s rank and scale and adapting the same layers.
   */
  static void continueFrom(
      ExtractionModel block, LoraSpec lora, String type, Path init, String baseSha)
      throws AdapterFormatException {
    PeftAdapter adapter = PeftAdapter.read(init, baseSha, block.moduleShapes());
    Path file = init.resolve(AdapterConfig.FILE);
    AdapterConfig c = adapter.config();
    if (!type.equals(c.documentType())) {
      throw new AdapterFormatException(
          file, "is an adapter of " + c.documentType() + ", not of " + type);
    }
    if (c.rank() != lora.rank() || c.scale() != lora.scale()) {
      throw new AdapterFormatException(
          file,
          "has rank "
              + c.rank()
              + " and scale "
              + c.scale()
              + "; this training has rank "
              + lora.rank()
              + " and scale "
              + lora.scale()
              + " (set --rank to the adapter's)");
    }
    Map<String, LoraLinear> adapted = new LinkedHashMap<>();
    block
        .linears()
        .forEach(
            (path, l) -> {
              if (l.loraA() != null) {
                adapted.put(path, l);
              }
            });
    if (!adapted.keySet().equals(adapter.modules().keySet())) {
      throw new AdapterFormatException(
          file, "adapts other layers than this training (" + adapted.size() + " layers)");
    }
    adapted.forEach(
        (path, l) -> {
          l.loraA().getArray().set(adapter.modules().get(path).a().data());
          l.loraB().getArray().set(adapter.modules().get(path).b().data());
        });
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
