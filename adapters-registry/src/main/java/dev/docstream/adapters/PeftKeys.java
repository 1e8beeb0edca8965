package dev.docstream.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The keys of a LoRA {@code adapter_config.json} as Python PEFT (0.10 to 0.20, checked against the
 * configs PEFT 0.18.0, 0.19.1 and 0.20.0 save) writes them, and what DocStream does with each:
 * reads it, accepts it because it only matters in training, or refuses a value it does not
 * implement, naming the key. A key PEFT does not have is refused unless it is unset (null, false,
 * empty), so a new PEFT option is never silently ignored; so is a {@code docstream_} key DocStream
 * does not write (a misspelt {@code docstream_confidence_temperature} would otherwise serve
 * uncalibrated confidences without a word).
 */
final class PeftKeys {
  private PeftKeys() {}

  /** What a key may hold. */
  private enum Rule {
    /** Read by {@link AdapterConfig}. */
    READ,
    /** Accepted whatever it holds: it matters in training or loading only, not in the weights. */
    ANY,
    /** Must be unset (absent, null, false, empty): DocStream does not implement it. */
    UNSET
  }

  private static final Map<String, Rule> KEYS =
      Map.ofEntries(
          // PeftConfig (every method)
          Map.entry("peft_type", Rule.READ),
          Map.entry("task_type", Rule.ANY),
          Map.entry("base_model_name_or_path", Rule.READ),
          Map.entry("revision", Rule.ANY),
          Map.entry("inference_mode", Rule.ANY),
          Map.entry("auto_mapping", Rule.ANY),
          Map.entry("peft_version", Rule.ANY),
          // LoraConfig: what merging honours
          Map.entry("r", Rule.READ),
          Map.entry("lora_alpha", Rule.READ),
          Map.entry("target_modules", Rule.READ),
          Map.entry("exclude_modules", Rule.READ),
          Map.entry("use_rslora", Rule.READ),
          Map.entry("bias", Rule.READ),
          // LoraConfig: training-time only
          Map.entry("lora_dropout", Rule.ANY),
          Map.entry("init_lora_weights", Rule.ANY),
          Map.entry("loftq_config", Rule.ANY),
          Map.entry("eva_config", Rule.ANY),
          Map.entry("corda_config", Rule.ANY),
          Map.entry("lora_ga_config", Rule.ANY),
          Map.entry("megatron_core", Rule.ANY),
          Map.entry("runtime_config", Rule.ANY),
          Map.entry("qalora_group_size", Rule.ANY),
          // LoraConfig: what DocStream does not implement
          Map.entry("use_dora", Rule.UNSET),
          Map.entry("use_qalora", Rule.UNSET),
          Map.entry("lora_bias", Rule.UNSET),
          Map.entry("fan_in_fan_out", Rule.UNSET),
          Map.entry("modules_to_save", Rule.UNSET),
          Map.entry("layers_to_transform", Rule.UNSET),
          Map.entry("layers_pattern", Rule.UNSET),
          Map.entry("rank_pattern", Rule.UNSET),
          Map.entry("alpha_pattern", Rule.UNSET),
          Map.entry("megatron_config", Rule.UNSET),
          Map.entry("layer_replication", Rule.UNSET),
          Map.entry("trainable_token_indices", Rule.UNSET),
          Map.entry("target_parameters", Rule.UNSET),
          Map.entry("alora_invocation_tokens", Rule.UNSET),
          Map.entry("arrow_config", Rule.UNSET),
          Map.entry("ensure_weight_tying", Rule.UNSET),
          Map.entry("use_bdlora", Rule.UNSET),
          // PEFT 0.20 and later (null unless used)
          Map.entry("monteclora_config", Rule.UNSET),
          Map.entry("velora_config", Rule.UNSET),
          Map.entry("kasa_config", Rule.UNSET),
          // DocStream's own keys (AdapterConfig)
          Map.entry("docstream_document_type", Rule.READ),
          Map.entry("docstream_base_model_sha256", Rule.READ),
          Map.entry("docstream_adapter_version", Rule.READ),
          Map.entry("docstream_field_formats", Rule.READ),
          Map.entry(AdapterConfig.TEMPERATURE_KEY, Rule.READ));

  /** Refuses a key DocStream would otherwise have to ignore. */
  static void check(Path file, ObjectNode config) throws AdapterFormatException {
    for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = e.getKey();
      Rule rule = KEYS.get(key);
      if (rule == null && !unset(e.getValue())) {
        throw new AdapterFormatException(
            file,
            key
                + (key.startsWith("docstream_")
                    ? " is not a key DocStream writes"
                    : " is not a PEFT LoRA key DocStream knows")
                + "; refusing rather than ignoring it");
      }
      if (rule == Rule.UNSET && !unset(e.getValue())) {
        throw new AdapterFormatException(
            file,
            key
                + " = "
                + e.getValue()
                + " is not supported (DocStream merges plain LoRA: W + s * B A on the named"
                + " modules)");
      }
    }
    String bias = config.path("bias").asText("none");
    if (!"none".equals(bias)) {
      throw new AdapterFormatException(
          file, "bias = '" + bias + "' is not supported (only 'none': no bias terms are trained)");
    }
  }

  /** Unset as PEFT writes an option left at its default. */
  private static boolean unset(JsonNode v) {
    return v == null
        || v.isNull()
        || v.isMissingNode()
        || (v.isBoolean() && !v.asBoolean())
        || (v.isContainerNode() && v.isEmpty())
        || (v.isTextual() && v.asText().isEmpty());
  }

  /**
   * The modules an adapter targets. With the base model's module names, as PEFT's {@code
   * check_target_module_exists}: a string is a regular expression a module's full path must match
   * entirely; a list entry matches the module of that path or any whose path ends with "." and it.
   * {@code exclude_modules} removes modules the same way. Without them, the list is taken as given.
   */
  static List<String> targets(Path file, JsonNode n, Set<String> moduleNames)
      throws AdapterFormatException {
    JsonNode targets = n.path("target_modules");
    if (moduleNames == null) {
      if (!targets.isArray() || targets.isEmpty()) {
        throw new AdapterFormatException(
            file, "target_modules must be a non-empty list of module names");
      }
      List<String> modules = new ArrayList<>();
      targets.forEach(t -> modules.add(t.asText()));
      return modules;
    }
    if (targets.isTextual() && "all-linear".equals(targets.asText())) {
      throw new AdapterFormatException(
          file, "target_modules = 'all-linear' is not supported: name the modules");
    }
    if (!(targets.isTextual() || (targets.isArray() && !targets.isEmpty()))) {
      throw new AdapterFormatException(
          file, "target_modules must be a non-empty list of module names or a regular expression");
    }
    JsonNode exclude = n.path("exclude_modules");
    List<String> candidates = new ArrayList<>();
    if (targets.isTextual()) {
      for (String module : new TreeSet<>(moduleNames)) {
        if (matches(file, "target_modules", targets, module)) {
          candidates.add(module);
        }
      }
    } else {
      // In the list's order (a list of full paths reads back as written); each entry must match.
      for (JsonNode t : targets) {
        List<String> hits = new ArrayList<>();
        for (String module : new TreeSet<>(moduleNames)) {
          if (module.equals(t.asText()) || module.endsWith("." + t.asText())) {
            hits.add(module);
          }
        }
        if (hits.isEmpty()) {
          throw new AdapterFormatException(
              file, "target module '" + t.asText() + "' is not in the base model");
        }
        hits.stream().filter(m -> !candidates.contains(m)).forEach(candidates::add);
      }
    }
    List<String> modules = new ArrayList<>();
    for (String module : candidates) {
      if (unset(exclude) || !matches(file, "exclude_modules", exclude, module)) {
        modules.add(module);
      }
    }
    if (modules.isEmpty()) {
      throw new AdapterFormatException(
          file, "target_modules " + targets + " matches no module of the base model");
    }
    return modules;
  }

  private static boolean matches(Path file, String key, JsonNode spec, String module)
      throws AdapterFormatException {
    if (spec.isTextual()) {
      try {
        return Pattern.compile(spec.asText()).matcher(module).matches();
      } catch (PatternSyntaxException e) {
        throw new AdapterFormatException(
            file, key + " is not a valid regular expression: " + e.getDescription(), e);
      }
    }
    if (spec.isArray()) {
      for (JsonNode t : spec) {
        String name = t.asText();
        if (module.equals(name) || module.endsWith("." + name)) {
          return true;
        }
      }
      return false;
    }
    throw new AdapterFormatException(
        file, key + " must be a list of names or a regular expression");
  }
}
