package dev.docstream.training;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.training.internal.Args;
import java.nio.file.Path;
import java.util.Set;

/** {@code docstream-train}: train the base model, adapters and baselines; evaluate them. */
public final class TrainCli {
  private static final String HELP = """
      Usage: train <command> [options]

      Commands:
        base       train the base model from scratch on the base share of document types
        help       show this text

      base options (defaults in brackets):
        --out DIR          checkpoint folder [models/base]
        --steps N          optimisation steps [6000]
        --batch N          images per step [32]
        --lr X             peak learning rate [0.0015]
        --warmup N         warm-up steps [300]
        --types N          number of base document types [300]
        --seed N           seed for data and initialisation [7]
        --config NAME      model size: standard or tiny [standard]
      """;

  private TrainCli() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.print(HELP);
      return;
    }
    try {
      switch (args[0]) {
        case "base" -> base(new Args(args, 1,
            Set.of("out", "steps", "batch", "lr", "warmup", "types", "seed", "config")));
        default -> throw new IllegalArgumentException("unknown command '" + args[0] + "' (see --help)");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }

  private static ModelConfig config(Args a) {
    return switch (a.get("config", "standard")) {
      case "standard" -> ModelConfig.standard();
      case "tiny" -> ModelConfig.tiny();
      default -> throw new IllegalArgumentException("--config must be standard or tiny");
    };
  }

  private static void base(Args a) throws Exception {
    ExtractionTrainer.Options o = new ExtractionTrainer.Options(a.getInt("steps", 6000),
        a.getInt("batch", 32), a.getFloat("lr", 0.0015f), a.getInt("warmup", 300), 1.0f);
    BaseTraining.run(config(a), o, a.getInt("types", 300), a.getLong("seed", 7),
        Path.of(a.get("out", "models/base")));
  }
}
