package dev.docstream.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.schemas.DocumentField;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code adapter_config.json} as PEFT writes it for a LoRA adapter, plus DocStream's own keys
 * (prefixed {@code docstream_}): the document type, the sha256 of the base weights the adapter was
 * trained on, its version, and the printed formats of the document type's fields, where known
 * ({@code "docstream_field_formats": {"DOCUMENT_NUMBER": "LLDDDDDDD"}}, see {@link FieldFormat}).
 *
 * @param rank LoRA rank r
 * @param alpha lora_alpha; the update is scaled by alpha / r
 * @param targetModules the adapted modules' full paths
 * @param baseModel base_model_name_or_path
 * @param documentType the document type the adapter serves
 * @param baseModelSha256 sha256 of the base weights file
 * @param version the adapter's version for its document type (1 when the file does not say)
 * @param fieldFormats per field, the format its text always has (empty when none is known)
 */
public record AdapterConfig(
    int rank,
    float alpha,
    List<String> targetModules,
    String baseModel,
    String documentType,
    String baseModelSha256,
    int version,
    Map<DocumentField, FieldFormat> fieldFormats) {
  /** File name inside an adapter folder. */
  public static final String FILE = "adapter_config.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  public AdapterConfig {
    targetModules = List.copyOf(targetModules);
    fieldFormats = Map.copyOf(fieldFormats); // write() puts them in field order
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

  /** The update scale s = alpha / r. */
  public float scale() {
    return alpha / rank;
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
    Files.writeString(
        dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
  }

  /** Reads and checks {@code adapter_config.json} in {@code dir}. */
  public static AdapterConfig read(Path dir) throws AdapterFormatException {
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
    int rank = n.path("r").asInt(0);
    float alpha = (float) n.path("lora_alpha").asDouble(0);
    if (rank < 1 || !(alpha > 0)) {
      throw new AdapterFormatException(
          file, "r must be >= 1 and lora_alpha > 0, got r=" + rank + " lora_alpha=" + alpha);
    }
    JsonNode targets = n.path("target_modules");
    if (!targets.isArray() || targets.isEmpty()) {
      throw new AdapterFormatException(
          file, "target_modules must be a non-empty list of module names");
    }
    List<String> modules = new ArrayList<>();
    targets.forEach(t -> modules.add(t.asText()));
    String type = n.path("docstream_document_type").asText("");
    String sha = n.path("docstream_base_model_sha256").asText("");
    if (type.isEmpty() || sha.isEmpty()) {
      throw new AdapterFormatException(
          file, "docstream_document_type and docstream_base_model_sha256 are required");
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
        fieldFormats(file, n.path("docstream_field_formats")));
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
