package dev.docstream.adapters.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import java.util.List;
import java.util.Random;

/** Adapter fixtures for tests: random LoRA pairs, and configs as Python PEFT 0.19 saves them. */
public final class TestAdapters {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TestAdapters() {}

  /** A random r x in A and out x r B. */
  public static PeftAdapter.LoraPair pair(Random rnd, int r, int out, int in) {
    float[] a = new float[r * in];
    float[] b = new float[out * r];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) rnd.nextGaussian();
    }
    return new PeftAdapter.LoraPair(
        new Tensor(new int[] {r, in}, a), new Tensor(new int[] {out, r}, b));
  }

  /**
   * An adapter_config.json with the full key set and defaults PEFT 0.19.1 saves (from a real {@code
   * save_pretrained}), no docstream_ keys.
   */
  public static ObjectNode peft019(int r, double alpha, List<String> targetModules) {
    ObjectNode n = JSON.createObjectNode();
    n.putNull("alora_invocation_tokens");
    n.putObject("alpha_pattern");
    n.putNull("arrow_config");
    n.putNull("auto_mapping");
    n.put("base_model_name_or_path", "docstream-extractor");
    n.put("bias", "none");
    n.putNull("corda_config");
    n.put("ensure_weight_tying", false);
    n.putNull("eva_config");
    n.putNull("exclude_modules");
    n.put("fan_in_fan_out", false);
    n.put("inference_mode", true);
    n.put("init_lora_weights", true);
    n.putNull("layer_replication");
    n.putNull("layers_pattern");
    n.putNull("layers_to_transform");
    n.putObject("loftq_config");
    n.put("lora_alpha", alpha);
    n.put("lora_bias", false);
    n.put("lora_dropout", 0.05);
    n.putNull("lora_ga_config");
    n.putNull("megatron_config");
    n.put("megatron_core", "megatron.core");
    n.putNull("modules_to_save");
    n.put("peft_type", "LORA");
    n.put("peft_version", "0.19.1");
    n.put("qalora_group_size", 16);
    n.put("r", r);
    n.putObject("rank_pattern");
    n.putNull("revision");
    var targets = n.putArray("target_modules");
    targetModules.forEach(targets::add);
    n.putNull("target_parameters");
    n.put("task_type", "FEATURE_EXTRACTION");
    n.putNull("trainable_token_indices");
    n.putNull("use_bdlora");
    n.put("use_dora", false);
    n.put("use_qalora", false);
    n.put("use_rslora", false);
    return n;
  }
}
