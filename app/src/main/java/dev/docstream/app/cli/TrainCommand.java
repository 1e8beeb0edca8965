package dev.docstream.app.cli;

import static dev.docstream.training.TrainingDefaults.ADAPTER_LR;
import static dev.docstream.training.TrainingDefaults.ADAPTER_RANK;
import static dev.docstream.training.TrainingDefaults.ADAPTER_STEPS;
import static dev.docstream.training.TrainingDefaults.FULL_LR;
import static dev.docstream.training.TrainingDefaults.TUNING_STEPS;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.AdapterTraining;
import dev.docstream.training.BaseTraining;
import dev.docstream.training.EvaluationTable;
import dev.docstream.training.ExtractionTrainer;
import dev.docstream.training.internal.BatchFeed;
import dev.docstream.training.synth.DocumentTypes;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code docstream train}: the base model, adapters and baselines, and their evaluation. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description =
        "Train and evaluate the base model and adapters (each subcommand has its own --help).",
    subcommands = {
      TrainCommand.Base.class,
      TrainCommand.Adapter.class,
      TrainCommand.Full.class,
      TrainCommand.Ship.class,
      TrainCommand.Sweep.class,
      TrainCommand.Evaluate.class,
      TrainCommand.Types.class,
      TrainCommand.Reference.class,
      TrainCommand.Feed.class
    })
final class TrainCommand {
  /** Options of every fine-tuning run (adapter, full, ship, sweep). */
  static final class Tuning {
    @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
    Path base;

    @Option(names = "--steps", description = "Optimisation steps (default: the command's).")
    Integer steps;

    @Option(names = "--batch", defaultValue = "32", description = "Images per step.")
    int batch;

    @Option(names = "--lr", description = "Peak learning rate (default: the command's).")
    Float lr;

    @Option(
        names = "--lr-b-ratio",
        defaultValue = "1",
        description = "lora_B learns this many times faster (LoRA+).")
    float lrBRatio;

    @Option(names = "--seed", defaultValue = "11", description = "Seed.")
    long seed;

    ExtractionTrainer.Options options(float defaultLr, int defaultSteps) {
      return new ExtractionTrainer.Options(
          steps == null ? defaultSteps : steps,
          batch,
          lr == null ? defaultLr : lr,
          30,
          1.0f,
          lrBRatio);
    }
  }

  /** Which held-out types: a count, or ids. */
  static List<String> types(String spec) {
    return spec.matches("\\d+")
        ? DocumentTypes.heldOut(Integer.parseInt(spec))
        : List.of(spec.split(","));
  }

  @Command(
      name = "base",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description = "Train the base model from scratch on the base share of document types.")
  static final class Base implements Callable<Integer> {
    @Option(names = "--out", defaultValue = "models/base", description = "Checkpoint folder.")
    Path out;

    @Option(names = "--steps", defaultValue = "6000", description = "Optimisation steps.")
    int steps;

    @Option(names = "--batch", defaultValue = "32", description = "Images per step.")
    int batch;

    @Option(names = "--lr", defaultValue = "0.0015", description = "Peak learning rate.")
    float lr;

    @Option(names = "--warmup", defaultValue = "300", description = "Warm-up steps.")
    int warmup;

    @Option(names = "--types", defaultValue = "300", description = "Number of base document types.")
    int types;

    @Option(names = "--seed", defaultValue = "7", description = "Seed for data and initialisation.")
    long seed;

    @Option(
        names = "--config",
        defaultValue = "standard",
        description = "Model size: standard or tiny.")
    String config;

    @Option(
        names = "--init",
        description = "Continue from this checkpoint's weights (a new schedule).")
    Path init;

    @Override
    public Integer call() throws Exception {
      ModelConfig c =
          switch (config) {
            case "standard" -> ModelConfig.standard();
            case "tiny" -> ModelConfig.tiny();
            default -> throw new UserError("--config must be standard or tiny, got " + config);
          };
      BaseTraining.run(
          c, new ExtractionTrainer.Options(steps, batch, lr, warmup, 1.0f), types, seed, init, out);
      return 0;
    }
  }

  @Command(
      name = "adapter",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Train one document type's LoRA adapter (every linear layer, alpha = 2r, base frozen); writes a "
              + "PEFT folder. Defaults: "
              + ADAPTER_STEPS
              + " steps, learning rate "
              + ADAPTER_LR
              + ".")
  static final class Adapter implements Callable<Integer> {
    @Mixin Tuning tuning;

    @Option(
        names = "--type",
        required = true,
        description = "Document type, e.g. GBR-PASSPORT-2015.")
    String type;

    @Option(names = "--rank", defaultValue = "" + ADAPTER_RANK, description = "LoRA rank r.")
    int rank;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
      AdapterTraining.trainAdapter(
          tuning.base,
          type,
          LoraSpec.allLinear(rank),
          tuning.options(ADAPTER_LR, ADAPTER_STEPS),
          tuning.seed,
          out);
      return 0;
    }
  }

  @Command(
      name = "full",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Full fine-tuning baseline for one document type; writes a checkpoint. Defaults: "
              + TUNING_STEPS
              + " steps, learning rate "
              + FULL_LR
              + ".")
  static final class Full implements Callable<Integer> {
    @Mixin Tuning tuning;

    @Option(names = "--type", required = true, description = "Document type.")
    String type;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
      AdapterTraining.fullFineTune(
          tuning.base, type, tuning.options(FULL_LR, TUNING_STEPS), tuning.seed, out);
      return 0;
    }
  }

  @Command(
      name = "ship",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Train the adapters DocStream ships, one per held-out type (skips existing ones).")
  static final class Ship implements Callable<Integer> {
    @Mixin Tuning tuning;

    @Option(
        names = "--types",
        defaultValue = "8",
        description = "How many held-out types, or ids (A,B,...).")
    String types;

    @Option(names = "--rank", defaultValue = "" + ADAPTER_RANK, description = "LoRA rank r.")
    int rank;

    @Option(names = "--out", defaultValue = "models/adapters", description = "Adapters folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
      for (String type : types(types)) {
        if (Files.exists(out.resolve(type).resolve(PeftAdapter.WEIGHTS))) {
          System.err.println("ship: " + type + " exists, skipped");
          continue;
        }
        AdapterTraining.trainAdapter(
            tuning.base,
            type,
            LoraSpec.allLinear(rank),
            tuning.options(ADAPTER_LR, ADAPTER_STEPS),
            tuning.seed,
            out.resolve(type));
      }
      return 0;
    }
  }

  @Command(
      name = "sweep",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Train LoRA at several ranks, and full fine-tuning, per type (skips existing runs).")
  static final class Sweep implements Callable<Integer> {
    @Mixin Tuning tuning;

    @Option(names = "--types", defaultValue = "8", description = "How many held-out types, or ids.")
    String types;

    @Option(names = "--ranks", defaultValue = "8,16,32,64", description = "Ranks.")
    String ranks;

    @Option(
        names = "--full",
        defaultValue = "true",
        arity = "1",
        description = "Also full fine-tuning.")
    boolean full;

    @Option(names = "--runs", defaultValue = "work/sweep", description = "Runs folder.")
    Path runs;

    @Override
    public Integer call() throws Exception {
      for (String type : types(types)) {
        for (int r : Arrays.stream(ranks.split(",")).map(Integer::parseInt).toList()) {
          Path out = runs.resolve(type).resolve("r" + r);
          if (!Files.exists(out.resolve(PeftAdapter.WEIGHTS))) {
            AdapterTraining.trainAdapter(
                tuning.base,
                type,
                LoraSpec.allLinear(r),
                tuning.options(ADAPTER_LR, TUNING_STEPS),
                tuning.seed,
                out);
          }
        }
        Path f = runs.resolve(type).resolve("full");
        if (full && !Files.exists(f.resolve(ModelCheckpoint.WEIGHTS))) {
          AdapterTraining.fullFineTune(
              tuning.base, type, tuning.options(FULL_LR, TUNING_STEPS), tuning.seed, f);
        }
      }
      return 0;
    }
  }

  @Command(
      name = "evaluate",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Score the base, the shipped adapters and the sweep runs; writes evaluation.md and .json.")
  static final class Evaluate implements Callable<Integer> {
    @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
    Path base;

    @Option(
        names = "--adapters",
        defaultValue = "models/adapters",
        description = "Shipped adapters.")
    Path adapters;

    @Option(names = "--runs", defaultValue = "work/sweep", description = "Sweep runs.")
    Path runs;

    @Option(names = "--types", defaultValue = "8", description = "How many held-out types, or ids.")
    String types;

    @Option(names = "--ranks", defaultValue = "8,16,32,64", description = "Sweep ranks to score.")
    String ranks;

    @Option(names = "--docs", defaultValue = "200", description = "Test documents per type.")
    int docs;

    @Option(names = "--seed", defaultValue = "99", description = "Seed of the test documents.")
    long seed;

    @Option(
        names = "--formats",
        defaultValue = "true",
        arity = "1",
        description = "Read the document number in its type's format, as served.")
    boolean formats;

    @Option(names = "--out", defaultValue = "docs/evaluation", description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws Exception {
      List<EvaluationTable.Row> rows =
          EvaluationTable.run(
              base,
              adapters,
              runs,
              types(types),
              Arrays.stream(ranks.split(",")).map(Integer::parseInt).toList(),
              docs,
              seed,
              formats,
              out);
      for (EvaluationTable.Row r : rows) {
        StringBuilder fields = new StringBuilder();
        r.byField()
            .forEach(
                (f, v) ->
                    fields.append(String.format(" %s %.1f", f.name().toLowerCase(), 100 * v)));
        System.out.printf(
            "%-28s %-22s exact %6.2f %%  chars %6.2f %%  by field:%s%n",
            r.type(), r.variant(), 100 * r.exactMatch(), 100 * r.charAccuracy(), fields);
      }
      return 0;
    }
  }

  @Command(
      name = "types",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description = "List held-out document types.")
  static final class Types implements Callable<Integer> {
    @Option(names = "--count", defaultValue = "8", description = "How many.")
    int count;

    @Override
    public Integer call() {
      DocumentTypes.heldOut(count).forEach(System.out::println);
      return 0;
    }
  }

  @Command(
      name = "reference",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description = "Write a parity file: 8 rendered images and the Java model's logits for them.")
  static final class Reference implements Callable<Integer> {
    @Option(names = "--base", defaultValue = "models/base", description = "Base checkpoint.")
    Path base;

    @Option(names = "--out", required = true, description = "Output file.")
    Path out;

    @Option(names = "--seed", defaultValue = "5", description = "Seed.")
    long seed;

    @Override
    public Integer call() throws Exception {
      BatchFeed.writeReference(base, 8, seed, out);
      return 0;
    }
  }

  @Command(
      name = "feed",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Write rendered base-training batches to stdout (for training/gpu/train_base_gpu.py).")
  static final class Feed implements Callable<Integer> {
    @Option(names = "--types", defaultValue = "300", description = "Base document types.")
    int types;

    @Option(names = "--batch", defaultValue = "256", description = "Images per batch.")
    int batch;

    @Option(names = "--seed", defaultValue = "7", description = "Seed.")
    long seed;

    @Option(names = "--threads", description = "Render threads (default: cores - 1).")
    Integer threads;

    @Option(
        names = "--batches",
        defaultValue = "-1",
        description = "Batches; negative = until stdout closes.")
    long batches;

    @Override
    public Integer call() throws Exception {
      int n =
          threads != null ? threads : Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
      PrintStream stdout = System.out;
      System.setOut(
          System.err); // stdout carries only batches: anything else printed goes to stderr
      try (OutputStream out = new BufferedOutputStream(stdout, 1 << 20)) {
        BatchFeed.write(
            BaseTraining.baseTypes(types), batch, ModelConfig.standard(), seed, n, batches, out);
      } catch (IOException e) {
        // the reading trainer closed the pipe: the normal way a feed ends
      }
      return 0;
    }
  }
}
