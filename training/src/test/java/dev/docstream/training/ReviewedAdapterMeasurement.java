package dev.docstream.training;

import ai.djl.engine.Engine;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ExtractionModel;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.internal.BatchData;
import dev.docstream.training.internal.DocumentStream;
import dev.docstream.training.internal.ReviewedTargets;
import dev.docstream.training.synth.SyntheticDocument;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A measurement, not a unit test (its name keeps it out of every build; about 8 minutes on the
 * 2-core machine): does continuing a shipped adapter with reviewed documents mixed in keep its
 * held-out field exact-match ({@link HeldOutEvaluator}, seed 99)? 200 synthetic documents of the
 * type (seed 31: not a training, calibration or evaluation seed) are written as {@code docstream qc
 * export} would write them, their ground truth as the labels; the shipped adapter is scored, then
 * continued for the same steps twice from the same seed: on synthetic documents only (the control),
 * and with the reviewed share of each batch from the export ({@code measure.oracle=true} adds a
 * third run whose reviewed documents are labelled from the renderer's character centres instead of
 * aligned: what the alignment costs, apart from training on few documents). Run with:
 *
 * <pre>
 * mvn -B -o -q test -pl training -Dtest=ReviewedAdapterMeasurement -Ddocstream.measure=true \
 *     -Dsurefire.failIfNoSpecifiedTests=false [-Dmeasure.type=BGR-ID-CARD-2004 -Dmeasure.lr=0.002
 *     -Dmeasure.steps=300 -Dmeasure.oracle=true]
 * </pre>
 *
 * The figures are printed and written to {@code target/reviewed-measurement.txt}.
 */
@EnabledIfSystemProperty(named = "docstream.measure", matches = "true")
class ReviewedAdapterMeasurement {
  private static final Path ROOT = Path.of(System.getProperty("docstream.root", ".."));

  @Test
  void measure() throws Exception {
    String type = System.getProperty("measure.type", "BGR-ID-CARD-2004");
    int steps = Integer.getInteger("measure.steps", TrainingDefaults.CONTINUE_STEPS);
    int documents = Integer.getInteger("measure.documents", 200);
    float lr =
        Float.parseFloat(System.getProperty("measure.lr", "" + TrainingDefaults.CONTINUE_LR));
    double share = Double.parseDouble(System.getProperty("measure.share", "0.25"));
    Path base = ROOT.resolve("models/base");
    Path shipped = ROOT.resolve("models/adapters").resolve(type);
    Path work = Path.of("target/reviewed-measurement");
    Path export = work.resolve("export");
    ReviewedExports.write(export, ReviewedExports.render(type, documents, 31));
    ExtractionTrainer.Options options =
        new ExtractionTrainer.Options(steps, 32, lr, 30, 1.0f, TrainingDefaults.LORA_B_RATIO);
    LoraSpec lora = LoraSpec.allLinear(TrainingDefaults.ADAPTER_RANK);

    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            Locale.ROOT,
            "%s: %d exported documents (seed 31), %d steps of 32, lr %s, reviewed share %.2f; "
                + "held-out field exact-match on 200 documents (seed %d):",
            type,
            documents,
            steps,
            lr,
            share,
            HeldOutEvaluator.SEED));
    try (Extractor extractor = Extractor.load(base);
        HeldOutEvaluator evaluator = new HeldOutEvaluator(extractor, 200)) {
      PeftAdapter adapter =
          PeftAdapter.read(
              shipped, ModelCheckpoint.checksum(base), extractor.block().moduleShapes());
      lines.add(score("shipped adapter", evaluator.fieldExactMatch(adapter), 0));
      long started = System.nanoTime();
      PeftAdapter control =
          AdapterTraining.trainAdapter(
              base,
              type,
              lora,
              options,
              11,
              work.resolve("synthetic"),
              new AdapterTraining.Inputs(shipped, null, share));
      lines.add(score("continued, synthetic only", evaluator.fieldExactMatch(control), started));
      started = System.nanoTime();
      PeftAdapter reviewed =
          AdapterTraining.trainAdapter(
              base,
              type,
              lora,
              options,
              11,
              work.resolve("reviewed"),
              new AdapterTraining.Inputs(shipped, export, share));
      lines.add(score("continued, with --reviewed", evaluator.fieldExactMatch(reviewed), started));
      if (Boolean.getBoolean("measure.oracle")) {
        // The same documents, labelled from the renderer's character centres rather than aligned:
        // what the alignment costs, apart from what training on few documents costs.
        started = System.nanoTime();
        PeftAdapter oracle = continueWithRendererLabels(base, shipped, type, lora, options, share);
        lines.add(score("continued, renderer labels", evaluator.fieldExactMatch(oracle), started));
      }
    }
    lines.forEach(System.out::println);
    Files.write(Path.of("target/reviewed-measurement.txt"), lines);
  }

  private static PeftAdapter continueWithRendererLabels(
      Path base,
      Path shipped,
      String type,
      LoraSpec lora,
      ExtractionTrainer.Options options,
      double share)
      throws Exception {
    Engine.getInstance().setRandomSeed(11);
    ModelConfig config = ModelCheckpoint.readConfig(base);
    List<SyntheticDocument> docs =
        ReviewedExports.render(type, Integer.getInteger("measure.documents", 200), 31);
    BatchData labelled = BatchData.of(docs, config);
    int input = config.imageHeight() * config.imageWidth();
    int labels = DocumentField.values().length * config.frames();
    List<ReviewedTargets.Sample> samples = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      samples.add(
          new ReviewedTargets.Sample(
              Arrays.copyOfRange(labelled.pixels(), i * input, (i + 1) * input),
              Arrays.copyOfRange(labelled.classes(), i * labels, (i + 1) * labels),
              Arrays.copyOfRange(labelled.weights(), i * labels, (i + 1) * labels)));
    }
    ExtractionModel block = new ExtractionModel(config, lora);
    try (ExtractionTrainer trainer = new ExtractionTrainer(block, options)) {
      ModelCheckpoint.copyInto(block, base, trainer.manager());
      AdapterTraining.continueFrom(block, lora, type, shipped, ModelCheckpoint.checksum(base));
      for (Pair<String, Parameter> p : block.getParameters()) {
        p.getValue().freeze(!p.getKey().endsWith("lora_A") && !p.getKey().endsWith("lora_B"));
      }
      int perBatch = new AdapterTraining.Inputs(null, shipped, share).reviewedPerBatch(32);
      try (DocumentStream data =
          new DocumentStream(List.of(type), 32, config, 11, samples, perBatch)) {
        trainer.train(data, "adapter " + type + " renderer labels", Integer.MAX_VALUE, null);
      }
      return AdapterTraining.export(block, lora, type, ModelCheckpoint.checksum(base));
    }
  }

  private static String score(String what, double exactMatch, long started) {
    String time =
        started == 0
            ? ""
            : String.format(
                Locale.ROOT, " (trained in %.0f s)", (System.nanoTime() - started) / 1e9);
    return String.format(Locale.ROOT, "  %-28s %6.2f %%%s", what, 100 * exactMatch, time);
  }
}
