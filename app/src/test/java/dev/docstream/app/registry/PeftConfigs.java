package dev.docstream.app.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Adapter folders as Python PEFT 0.19 saves them: the shipped adapter's weights with an
 * adapter_config.json of PEFT's full key set and defaults, short target names, no docstream_ keys.
 */
final class PeftConfigs {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PeftConfigs() {}

  /** Writes {@code into} from a shipped adapter folder; {@code edit} may change the config. */
  static Path peft019(Path shipped, Path into, Consumer<ObjectNode> edit) throws IOException {
    Files.createDirectories(into);
    Files.copy(shipped.resolve(PeftAdapter.WEIGHTS), into.resolve(PeftAdapter.WEIGHTS));
    ObjectNode original = (ObjectNode) JSON.readTree(shipped.resolve(AdapterConfig.FILE).toFile());
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
    n.set("lora_alpha", original.get("lora_alpha"));
    n.put("lora_bias", false);
    n.put("lora_dropout", 0.05);
    n.putNull("lora_ga_config");
    n.putNull("megatron_config");
    n.put("megatron_core", "megatron.core");
    n.putNull("modules_to_save");
    n.put("peft_type", "LORA");
    n.put("peft_version", "0.19.1");
    n.put("qalora_group_size", 16);
    n.set("r", original.get("r"));
    n.putObject("rank_pattern");
    n.putNull("revision");
    var targets = n.putArray("target_modules"); // as PEFT shortens a long list: by suffix
    for (String t : new String[] {"qkv", "proj", "fc1", "fc2", "query", "key", "value", "head"}) {
      targets.add(t);
    }
    n.putNull("target_parameters");
    n.put("task_type", "FEATURE_EXTRACTION");
    n.putNull("trainable_token_indices");
    n.putNull("use_bdlora");
    n.put("use_dora", false);
    n.put("use_qalora", false);
    n.put("use_rslora", false);
    edit.accept(n);
    Files.writeString(
        into.resolve(AdapterConfig.FILE),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
    return into;
  }
}
