package dev.docstream.inference.model;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.ParameterStore;
import dev.docstream.adapters.FieldFormat;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.inference.model.decoding.OutputDecoder;
import dev.docstream.schemas.DocumentField;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs the extraction model on batches of images. One instance owns one model and is used by one
 * thread at a time (a worker's inference thread); the merge engine changes its weights between
 * batches, never during one.
 */
public final class Extractor implements AutoCloseable {
  private final Model model;
  private final ExtractionModel block;
  private final ImagePreprocessor preprocessor;

  private Extractor(Model model, ExtractionModel block) {
    this.model = model;
    this.block = block;
    this.preprocessor = new ImagePreprocessor(block.config());
  }

  /** Loads a base-model checkpoint folder ({@code model.json} + {@code model.safetensors}). */
  public static Extractor load(Path checkpoint) throws IOException {
    ExtractionModel block = new ExtractionModel(ModelCheckpoint.readConfig(checkpoint));
    return wrap(block, checkpoint);
  }

  /** Wraps a model whose parameters are already initialised (see {@link RandomWeights}). */
  static Extractor of(Model model, ExtractionModel block) {
    return new Extractor(model, block);
  }

  /** Loads a checkpoint into a model built by the caller (for example one with LoRA parameters). */
  public static Extractor wrap(ExtractionModel block, Path checkpoint) throws IOException {
    Model model = Model.newInstance("docstream-extractor");
    model.setBlock(block);
    ModelCheckpoint.load(block, checkpoint, model.getNDManager());
    return new Extractor(model, block);
  }

  /**
   * Freezes every parameter: a serving model never trains, and its weights change only by merges.
   */
  public Extractor freezeParameters() {
    block.getParameters().forEach(p -> p.getValue().freeze(true));
    return this;
  }

  /** The model. */
  public ExtractionModel block() {
    return block;
  }

  /** The model's manager, which owns its parameters. */
  public NDManager manager() {
    return model.getNDManager();
  }

  /** Reads every field of each image; one batched forward pass. */
  public List<Map<DocumentField, FieldReading>> extract(List<BufferedImage> images) {
    return extract(images, Map.of());
  }

  /** Reads every field of each image, the fields in {@code formats} as text of their format. */
  public List<Map<DocumentField, FieldReading>> extract(
      List<BufferedImage> images, Map<DocumentField, FieldFormat> formats) {
    return extract(images, formats, 1);
  }

  /**
   * Reads every field of each image, the fields in {@code formats} as text of their format, each
   * confidence calibrated by {@code temperature} (the merged adapter's; 1 for the base model
   * alone). The values read do not depend on the temperature, only the confidences do.
   */
  public List<Map<DocumentField, FieldReading>> extract(
      List<BufferedImage> images, Map<DocumentField, FieldFormat> formats, double temperature) {
    return read(logits(images), images.size(), formats, temperature);
  }

  /** Reads the fields out of the logits of {@code n} images ({@link #logits}); no model call. */
  public List<Map<DocumentField, FieldReading>> read(
      float[] logits, int n, Map<DocumentField, FieldFormat> formats, double temperature) {
    return OutputDecoder.decode(logits, n, block.config().frames(), formats, temperature);
  }

  /**
   * Reads every field of each image in one batched forward pass, each sample decoded with its own
   * formats and temperature (a mixed batch, every sample its own adapter).
   */
  public List<Map<DocumentField, FieldReading>> extractEach(
      List<BufferedImage> images,
      List<Map<DocumentField, FieldFormat>> formats,
      double[] temperatures) {
    float[] logits = logits(images);
    int per = logits.length / images.size();
    List<Map<DocumentField, FieldReading>> out = new java.util.ArrayList<>(images.size());
    for (int i = 0; i < images.size(); i++) {
      float[] one = java.util.Arrays.copyOfRange(logits, i * per, (i + 1) * per);
      out.add(
          OutputDecoder.decode(one, 1, block.config().frames(), formats.get(i), temperatures[i])
              .get(0));
    }
    return out;
  }

  /** The raw logits {@code (B, F, T, C)} of one batched forward pass, as a flat array. */
  public float[] logits(List<BufferedImage> images) {
    float[] pixels = new float[images.size() * preprocessor.inputSize()];
    for (int i = 0; i < images.size(); i++) {
      preprocessor.toInput(images.get(i), pixels, i * preprocessor.inputSize());
    }
    return logits(pixels, images.size());
  }

  /** The raw logits for already-preprocessed pixels. */
  public float[] logits(float[] pixels, int n) {
    NDManager manager = block.getParameters().get(0).getValue().getArray().getManager();
    try (NDScope scope = new NDScope();
        NDManager m = manager.newSubManager()) {
      NDArray x = m.create(pixels, block.inputShape(n));
      NDList out = block.forward(new ParameterStore(m, false), new NDList(x), false);
      scope.suppressNotUsedWarning();
      return out.singletonOrThrow().toFloatArray();
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
