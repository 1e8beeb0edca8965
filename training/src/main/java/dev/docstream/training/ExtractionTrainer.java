package dev.docstream.training;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.internal.BatchData;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.internal.FrameLoss;
import java.util.HashSet;
import java.util.Set;

/**
 * The training loop shared by base training, adapter training and full fine-tuning: Adam with
 * warm-up and cosine decay, global-norm gradient clipping, and a progress line.
 */
public final class ExtractionTrainer implements AutoCloseable {
  /**
   * @param steps optimisation steps
   * @param batchSize images per step
   * @param learningRate peak learning rate
   * @param warmupSteps linear warm-up steps
   * @param clipNorm global gradient-norm bound (DJL's optClipGrad only bounds from above, so we
   *     clip ourselves)
   * @param loraBRatio learning rate of the {@code lora_B} matrices relative to every other
   *     parameter (LoRA+, Hayou et al. 2024: B learns faster than A); 1 is plain LoRA
   */
  public record Options(
      int steps,
      int batchSize,
      float learningRate,
      int warmupSteps,
      float clipNorm,
      float loraBRatio) {
    /** Options with one learning rate for every parameter. */
    public Options(int steps, int batchSize, float learningRate, int warmupSteps, float clipNorm) {
      this(steps, batchSize, learningRate, warmupSteps, clipNorm, 1f);
    }
  }

  /** Called every few steps, for example to save a checkpoint. */
  public interface Checkpoint {
    void save(int step) throws java.io.IOException;
  }

  private final Model model;
  private final ExtractionModel block;
  private final Trainer trainer;
  private final Options options;

  /**
   * Creates the trainer and initialises every parameter (Xavier for weights). Callers that start
   * from a checkpoint load it after this, then freeze what must not train.
   */
  public ExtractionTrainer(ExtractionModel block, Options options) {
    this.block = block;
    this.options = options;
    model = Model.newInstance("docstream-extractor");
    model.setBlock(block);
    Tracker cosine =
        Tracker.cosine()
            .setBaseValue(options.learningRate())
            .optFinalValue(options.learningRate() / 20)
            .setMaxUpdates(options.steps())
            .build();
    Tracker lr =
        Tracker.warmUp()
            .optWarmUpSteps(options.warmupSteps())
            .optWarmUpBeginValue(options.learningRate() / 50)
            .setMainTracker(cosine)
            .build();
    Set<String> loraB = new HashSet<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      if (p.getKey().endsWith("lora_B")) {
        loraB.add(p.getValue().getId());
      }
    }
    float ratio = options.loraBRatio();
    ParameterTracker perParameter =
        (id, update) ->
            loraB.contains(id) ? ratio * lr.getNewValue(update) : lr.getNewValue(update);
    DefaultTrainingConfig config =
        new DefaultTrainingConfig(new FrameLoss())
            .optOptimizer(Optimizer.adam().optLearningRateTracker(perParameter).build())
            .optInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
    trainer = model.newTrainer(config);
    trainer.initialize(block.inputShape(options.batchSize()));
  }

  /** The manager that owns the model's parameters. */
  public NDManager manager() {
    return model.getNDManager();
  }

  /**
   * The model's raw logits {@code (B, F, T, C)} for {@code n} preprocessed images, as it stands
   * (inference mode, no gradient recorded): what the reviewed documents are aligned with.
   */
  public float[] logits(float[] pixels, int n) {
    try (NDScope scope = new NDScope();
        NDManager m = trainer.getManager().newSubManager()) {
      NDArray x = m.create(pixels, block.inputShape(n));
      NDList out = block.forward(new ParameterStore(m, false), new NDList(x), false);
      scope.suppressNotUsedWarning();
      return out.get(0).toFloatArray();
    }
  }

  /** Runs the configured number of steps on batches from the stream. */
  public float train(DocumentStream data, String task, int checkpointEvery, Checkpoint checkpoint)
      throws InterruptedException, java.io.IOException {
    Progress progress = new Progress(task, options.steps());
    float smoothed = Float.NaN;
    long images = 0;
    long started = System.nanoTime();
    for (int step = 1; step <= options.steps(); step++) {
      BatchData batch = data.next();
      float loss = step(batch);
      smoothed = Float.isNaN(smoothed) ? loss : 0.95f * smoothed + 0.05f * loss;
      images += batch.size();
      if (step % 10 == 0 || step == options.steps()) {
        double rate = images / ((System.nanoTime() - started) / 1e9);
        progress.update(step, String.format("loss %.4f %.1f img/s", smoothed, rate));
      }
      if (checkpoint != null && (step % checkpointEvery == 0 || step == options.steps())) {
        checkpoint.save(step);
      }
    }
    return smoothed;
  }

  /** One optimisation step; returns the batch loss. */
  public float step(BatchData batch) {
    int n = batch.size();
    int fields = DocumentField.values().length;
    int frames = block.config().frames();
    float loss;
    try (NDManager m = trainer.getManager().newSubManager()) {
      NDArray x = m.create(batch.pixels(), block.inputShape(n));
      NDArray classes = m.create(batch.classes(), new Shape(n, fields, frames));
      NDArray weights = m.create(batch.weights(), new Shape(n, fields, frames));
      NDArray rows =
          m.create(
              batch.rows(),
              new Shape(n, block.config().gridHeight(), block.config().gridWidth(), fields));
      try (NDScope scope = new NDScope();
          GradientCollector gc = trainer.newGradientCollector()) {
        NDList pred = trainer.forward(new NDList(x));
        NDArray l = trainer.getLoss().evaluate(new NDList(classes, weights, rows), pred);
        gc.backward(l);
        loss = l.getFloat();
        clipGradients(m);
        scope.suppressNotUsedWarning();
      }
      trainer.step();
    }
    if (!Float.isFinite(loss)) {
      throw new IllegalStateException("training diverged: loss is " + loss);
    }
    return loss;
  }

  private void clipGradients(NDManager m) {
    double sumSquares = 0;
    java.util.List<NDArray> grads = new java.util.ArrayList<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      if (p.getValue().requiresGradient()) {
        NDArray g = p.getValue().getArray().getGradient();
        grads.add(g);
        sumSquares += g.square().sum().getFloat();
      }
    }
    double norm = Math.sqrt(sumSquares);
    if (norm > options.clipNorm()) {
      NDArray factor = m.create((float) (options.clipNorm() / norm));
      for (NDArray g : grads) {
        g.muli(factor);
      }
    }
  }

  @Override
  public void close() {
    trainer.close();
    model.close();
  }
}
