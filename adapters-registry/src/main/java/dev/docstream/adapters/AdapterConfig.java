package dev.docstream.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.schemas.DocumentField;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code adapter_config.json} as PEFT writes it for a LoRA adapter, plus DocStream's own keys
 * (prefixed {@code docstream_}): the document type, the sha256 of the base weights the adapter was
 * trained on, its version, the printed formats of the document type's fields, where known ({@code
 * "docstream_field_formats": {"DOCUMENT_NUMBER": "LLDDDDDDD"}}, see {@link FieldFormat}), and the
 * temperature that calibrates its fields' confidences ({@code "docstream_confidence_temperature":
 * 0.42}, fitted after training; absent means 1, the confidence as the model gives it).
 *
 * @param rank LoRA rank r
 * @param alpha lora_alpha; the update is scaled by alpha / r
 * @param targetModules the adapted modules' full paths
 * @param baseModel base_model_name_or_path
 * @param documentType the document type the adapter serves
 * @param baseModelSha256 sha256 of the base weights file
 * @param version the adapter's version for its document type (1 when the file does not say)
 * @param fieldFormats per field, the format its text always has (empty when none is known)
 * @param useRslora PEFT's rank-stabilised LoRA: the update is scaled by alpha / sqrt(r)
 * @param confidenceTemperature the temperature T the decoder divides this adapter's frame scores by
 *     when it computes a field's confidence, in [{@link #MIN_TEMPERATURE}, {@link
 *     #MAX_TEMPERATURE}]; 1 leaves the confidence as the model gives it
 */
public record AdapterConfig(
    int rank,
    float alpha,
    List<String> targetModules,
    String baseModel,
    String documentType,
    String baseModelSha256,
    int version,
    Map<DocumentField, FieldFormat> fieldFormats,
    boolean useRslora,
    double confidenceTemperature) {
  /** File name inside an adapter folder. */
  public static final String FILE = "adapter_config.json";

  /** The key of {@link #confidenceTemperature()}; absent means 1. */
  public static final String TEMPERATURE_KEY = "docstream_confidence_temperature";

  /**
   * Smallest confidence temperature accepted: a confidence sharpened 20 times is a fit gone wrong.
   */
  public static final double MIN_TEMPERATURE = 0.05;

  /** Largest confidence temperature accepted. */
  public static final double MAX_TEMPERATURE = 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  public AdapterConfig {
    targetModules = List.copyOf(targetModules);
    fieldFormats = Map.copyOf(fieldFormats); // write() puts them in field order
    if (!validTemperature(confidenceTemperature)) {
      throw new IllegalArgumentException(temperatureRule(confidenceTemperature));
    }
  }

  /** Without a confidence temperature (1). */
  public AdapterConfig(
      int rank,
      float alpha,
      List<String> targetModules,
      String baseModel,
      String documentType,
      String baseModelSha256,
      int version,
      Map<DocumentField, FieldFormat> fieldFormats,
      boolean useRslora) {
    this(
        rank,
        alpha,
        targetModules,
        baseModel,
        documentType,
        baseModelSha256,
        version,
        fieldFormats,
        useRslora,
        1);
  }

  /** Plain LoRA (alpha / r). */
  public AdapterConfig(
      int rank,
      float alpha,
      List<String> targetModules,
      String baseModel,
      String documentType,
      String baseModelSha256,
      int version,
      Map<DocumentField, FieldFormat> fieldFormats) {
    this(
        rank,
        alpha,
        targetModules,
        baseModel,
        documentType,
        baseModelSha256,
        version,
        fieldFormats,
        false);
  }

  /** Version 1 of an adapter, no field formats. */
  public AdapterConfig(
      int rank,
      float alpha,
      List<String> targetModules,
      String baseModel,
      String documentType,
      String baseModelSha256) {
    this(rank, alpha, targetModules, baseModel, documentType, baseModelSha256, 1, Map.of());
  }

  /** The update scale s: alpha / r, or alpha / sqrt(r) with {@code use_rslora} (as PEFT). */
  public float scale() {
    return useRslora ? (float) (alpha / Math.sqrt(rank)) : alpha / rank;
  }

  /** The same adapter under another version and, where given, document type and base model. */
  public AdapterConfig withIdentity(String type, String baseSha256, int newVersion) {
    return new AdapterConfig(
        rank,
        alpha,
        targetModules,
        baseModel,
        type,
        baseSha256,
        newVersion,
        fieldFormats,
        useRslora,
        confidenceTemperature);
  }

  /** The same adapter with its confidences calibrated by {@code temperature}. */
  public AdapterConfig withConfidenceTemperature(double temperature) {
    return new AdapterConfig(
        rank,
        alpha,
        targetModules,
        baseModel,
        documentType,
        baseModelSha256,
        version,
        fieldFormats,
        useRslora,
        temperature);
  }

  /** Writes {@code adapter_config.json} into {@code dir}. */
  public void write(Path dir) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("peft_type", "LORA");
    n.putNull("task_type");
    n.put("r", rank);
    n.put("lora_alpha", alpha);
    n.put("lora_dropout", 0.0);
    n.put("bias", "none");
    n.put("fan_in_fan_out", false);
    n.put("inference_mode", true);
    n.put("use_rslora", useRslora);
    n.put("use_dora", false);
    var targets = n.putArray("target_modules");
    targetModules.forEach(targets::add);
    n.put("base_model_name_or_path", baseModel);
    n.put("docstream_document_type", documentType);
    n.put("docstream_base_model_sha256", baseModelSha256);
    n.put("docstream_adapter_version", version);
    if (!fieldFormats.isEmpty()) {
      ObjectNode formats = n.putObject("docstream_field_formats");
      new EnumMap<>(fieldFormats)
          .forEach((field, format) -> formats.put(field.name(), format.pattern()));
    }
    if (confidenceTemperature != 1) {
      n.put(TEMPERATURE_KEY, confidenceTemperature);
    }
    writeJson(dir, n);
  }

  /**
   * Sets {@code docstream_confidence_temperature} in the {@code adapter_config.json} in {@code dir}
   * and leaves every other key as it is, in its place (a shipped adapter calibrated after it was
   * trained keeps the rest of its file byte for byte).
   *
   * @throws IllegalArgumentException if {@code temperature} is out of range
   */
  public static void rewriteConfidenceTemperature(Path dir, double temperature)
      throws IOException, AdapterFormatException {
    if (!validTemperature(temperature)) {
      throw new IllegalArgumentException(temperatureRule(temperature));
    }
    Path file = dir.resolve(FILE);
    JsonNode n = JSON.readTree(Files.readString(file));
    if (n == null || !n.isObject()) {
      throw new AdapterFormatException(file, "not a JSON object");
    }
    ((ObjectNode) n).put(TEMPERATURE_KEY, temperature);
    writeJson(dir, (ObjectNode) n);
  }

  private static void writeJson(Path dir, ObjectNode n) throws IOException {
    Files.writeString(
        dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
  }

  private static boolean validTemperature(double t) {
    return t >= MIN_TEMPERATURE && t <= MAX_TEMPERATURE; // false for NaN
  }

  private static String temperatureRule(double t) {
    return TEMPERATURE_KEY
        + " must be a number in ["
        + MIN_TEMPERATURE
        + ", "
        + MAX_TEMPERATURE
        + "] (absent means 1), got "
        + t;
  }

  /**
   * What a config written by Python PEFT lacks: DocStream's own keys, supplied by the command that
   * imports it. A null component means "the file must say".
   */
  public record Defaults(String documentType, String baseModelSha256) {
    public static final Defaults NONE = new Defaults(null, null);
  }

  /** Reads and checks {@code adapter_config.json} in {@code dir}; targets must be full paths. */
  public static AdapterConfig read(Path dir) throws AdapterFormatException {
    return read(dir, null, Defaults.NONE);
  }

  /**
   * Reads and checks {@code adapter_config.json} in {@code dir}, as DocStream or Python PEFT (0.19
   * and earlier) writes it. What DocStream implements is honoured ({@code use_rslora}; {@code
   * target_modules} and {@code exclude_modules} as a list or a regular expression, matched as PEFT
   * matches them); a key that asks for what it does not implement ({@code use_dora}, rank or alpha
   * patterns, {@code modules_to_save}, {@code fan_in_fan_out}, ...) is refused naming the key,
   * never ignored. See {@link PeftKeys}.
   *
   * @param moduleNames the base model's adaptable modules, against which the targets are matched;
   *     null to take a list of targets as full paths, unmatched
   * @param defaults the document type and base checksum where the file has no {@code docstream_}
   *     keys
   */
  public static AdapterConfig read(Path dir, Set<String> moduleNames, Defaults defaults)
      throws AdapterFormatException {
    Path file = dir.resolve(FILE);
    JsonNode n;
    try {
      n = JSON.readTree(Files.readString(file));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AdapterFormatException(file, "not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new AdapterFormatException(file, "cannot be read: " + e.getMessage(), e);
    }
    if (n == null || !n.isObject()) {
      throw new AdapterFormatException(file, "not a JSON object");
    }
    if (!"LORA".equals(n.path("peft_type").asText())) {
      throw new AdapterFormatException(
          file, "peft_type is '" + n.path("peft_type").asText() + "', expected LORA");
    }
    PeftKeys.check(file, (ObjectNode) n);
    int rank = n.path("r").asInt(0);
    float alpha = (float) n.path("lora_alpha").asDouble(0);
    if (rank < 1 || !(alpha > 0)) {
      throw new AdapterFormatException(
          file, "r must be >= 1 and lora_alpha > 0, got r=" + rank + " lora_alpha=" + alpha);
    }
    List<String> modules = PeftKeys.targets(file, n, moduleNames);
    String type = n.path("docstream_document_type").asText("");
    if (type.isEmpty() && defaults.documentType() != null) {
      type = defaults.documentType();
    }
    String sha = n.path("docstream_base_model_sha256").asText("");
    if (sha.isEmpty() && defaults.baseModelSha256() != null) {
      sha = defaults.baseModelSha256();
    }
    if (type.isEmpty() || sha.isEmpty()) {
      throw new AdapterFormatException(
          file,
          "docstream_document_type and docstream_base_model_sha256 are required"
              + " (an adapter from Python PEFT: name its document type when publishing)");
    }
    int version = n.path("docstream_adapter_version").asInt(1);
    if (version < 1) {
      throw new AdapterFormatException(
          file, "docstream_adapter_version must be >= 1, got " + version);
    }
    return new AdapterConfig(
        rank,
        alpha,
        modules,
        n.path("base_model_name_or_path").asText(""),
        type,
        sha,
        version,
        fieldFormats(file, n.path("docstream_field_formats")),
        n.path("use_rslora").asBoolean(false),
        temperature(file, n.path(TEMPERATURE_KEY)));
  }

  private static double temperature(Path file, JsonNode node) throws AdapterFormatException {
    if (node.isMissingNode() || node.isNull()) {
      return 1;
    }
    if (!node.isNumber()) {
      throw new AdapterFormatException(
          file, TEMPERATURE_KEY + " must be a number, got " + node.getNodeType() + " " + node);
    }
    if (!validTemperature(node.asDouble())) {
      throw new AdapterFormatException(file, temperatureRule(node.asDouble()));
    }
    return node.asDouble();
  }

  private static Map<DocumentField, FieldFormat> fieldFormats(Path file, JsonNode node)
      throws AdapterFormatException {
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new AdapterFormatException(
          file, "docstream_field_formats must be an object of field name to format");
    }
    Map<DocumentField, FieldFormat> formats = new EnumMap<>(DocumentField.class);
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      DocumentField field;
      try {
        field = DocumentField.valueOf(e.getKey());
      } catch (IllegalArgumentException ex) {
        throw new AdapterFormatException(
            file,
            "docstream_field_formats names an unknown field '"
                + e.getKey()
                + "'; fields are "
                + List.of(DocumentField.values()),
            ex);
      }
      try {
        formats.put(field, new FieldFormat(e.getValue().asText("")));
      } catch (IllegalArgumentException ex) {
        throw new AdapterFormatException(
            file, "docstream_field_formats." + e.getKey() + ": " + ex.getMessage(), ex);
      }
    }
    return formats;
  }
}
