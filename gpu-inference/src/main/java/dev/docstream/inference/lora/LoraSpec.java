package dev.docstream.inference.lora;

import java.util.List;

/**
 * Which linear layers an adapter adapts, its rank r and alpha (the update is scaled by alpha / r).
 *
 * @param targetModules module-name suffixes as in PEFT's {@code target_modules} (for example {@code
 *     qkv} or {@code mlp.fc1}); empty means every linear layer
 */
public record LoraSpec(int rank, float alpha, List<String> targetModules) {

  /** Every linear layer, alpha = 2r (the scale s = 2 that the shipped adapters use). */
  public static LoraSpec allLinear(int rank) {
    return new LoraSpec(rank, 2f * rank, List.of());
  }

  public LoraSpec {
    if (rank < 1) {
      throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
    }
    if (!(alpha > 0)) {
      throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
    }
    targetModules = List.copyOf(targetModules);
  }

  /** The update scale s = alpha / r. */
  public float scale() {
    return alpha / rank;
  }

  /** Whether a module (by its full dotted path) is adapted, with PEFT's suffix matching. */
  public boolean targets(String modulePath) {
    if (targetModules.isEmpty()) {
      return true;
    }
    for (String t : targetModules) {
      if (modulePath.equals(t) || modulePath.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }
}
