package dev.docstream.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.schemas.DocumentField;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Analysts' reviewed documents of one type, read from the folder {@code docstream qc export}
 * writes: {@value #MANIFEST}, one JSON object per line ({@code document_type}, {@code image}: a
 * path inside the folder, {@code labels}: field name to canonical value or null), and the images.
 * Lines of other types are skipped; a bad line, or one whose image is missing or unreadable, is
 * refused with its line number.
 *
 * <p>The labels and images are personal data: nothing here logs them, the refusals name a line and
 * what is wrong with it, never a value, and a {@link Document} prints as its line number.
 */
public final class ReviewedDocuments {
  /** The manifest's file name in an export folder. */
  public static final String MANIFEST = "manifest.jsonl";

  private static final ObjectMapper JSON = new ObjectMapper();

  private ReviewedDocuments() {}

  /**
   * One reviewed document.
   *
   * @param line its line in the manifest, from 1
   * @param labels the reviewed fields' canonical values (dates YYYY-MM-DD, names in capitals); a
   *     null value: the field is not on the document; a field absent: not reviewed
   */
  public record Document(int line, BufferedImage image, Map<DocumentField, String> labels) {
    @Override
    public String toString() {
      return "reviewed document (manifest line " + line + ")";
    }
  }

  /**
   * A folder that cannot be read as reviewed documents; the message is one line, without values.
   */
  public static final class RefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  /**
   * The documents of {@code documentType} in an export folder, in manifest order (empty when it
   * holds none of that type).
   *
   * @throws RefusedException when the manifest is missing, a line is not a reviewed document, or
   *     its image is missing or not a PNG or JPEG
   */
  public static List<Document> read(Path folder, String documentType) throws IOException {
    Path manifest = folder.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      throw new RefusedException(
          "no " + MANIFEST + " in " + folder + " (write one with docstream qc export --out DIR)");
    }
    Path root = folder.toAbsolutePath().normalize();
    List<Document> docs = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(manifest, StandardCharsets.UTF_8)) {
      int number = 0;
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        Document doc = parse(root, manifest, number, line, documentType);
        if (doc != null) {
          docs.add(doc);
        }
      }
    }
    return List.copyOf(docs);
  }

  /** The line's document, or null when it is of another type. */
  private static Document parse(
      Path root, Path manifest, int number, String line, String documentType)
      throws RefusedException {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      // The parser's message quotes the line: not repeated here, nor chained.
      throw refused(manifest, number, "not JSON");
    }
    if (node == null || !node.isObject()) {
      throw refused(manifest, number, "not a JSON object");
    }
    JsonNode type = node.get("document_type");
    if (type == null || !type.isTextual()) {
      throw refused(manifest, number, "document_type is missing or not a string");
    }
    if (!type.asText().equals(documentType)) {
      return null;
    }
    Map<DocumentField, String> labels = labels(node.get("labels"), manifest, number);
    JsonNode image = node.get("image");
    if (image == null || !image.isTextual() || image.asText().isEmpty()) {
      throw refused(manifest, number, "image is missing or not a string");
    }
    Path file = root.resolve(image.asText()).normalize();
    if (!file.startsWith(root) || file.equals(root)) {
      throw refused(manifest, number, "image is not a path inside the folder");
    }
    if (!Files.isRegularFile(file)) {
      throw refused(manifest, number, "image file is missing");
    }
    try {
      return new Document(number, ImagePreprocessor.decode(Files.readAllBytes(file)), labels);
    } catch (IOException e) {
      throw refused(manifest, number, "image file cannot be read");
    } catch (ImagePreprocessor.UnreadableImageException e) {
      throw refused(manifest, number, "image file is not a PNG or JPEG the JDK can decode");
    }
  }

  private static Map<DocumentField, String> labels(JsonNode labels, Path manifest, int number)
      throws RefusedException {
    if (labels == null || !labels.isObject()) {
      throw refused(manifest, number, "labels is missing or not an object");
    }
    Map<DocumentField, String> out = new EnumMap<>(DocumentField.class);
    for (Iterator<Map.Entry<String, JsonNode>> it = labels.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      DocumentField field = field(e.getKey());
      if (field == null) {
        throw refused(
            manifest,
            number,
            "labels holds a key that is not a field name (one of "
                + Arrays.stream(DocumentField.values())
                    .map(Enum::name)
                    .collect(Collectors.joining(", "))
                + ")");
      }
      if (!e.getValue().isTextual() && !e.getValue().isNull()) {
        throw refused(manifest, number, "the label of " + field + " is not a string or null");
      }
      out.put(field, e.getValue().isNull() ? null : e.getValue().asText());
    }
    return Collections.unmodifiableMap(out);
  }

  private static DocumentField field(String name) {
    for (DocumentField f : DocumentField.values()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  private static RefusedException refused(Path manifest, int number, String problem) {
    return new RefusedException(manifest + " line " + number + ": " + problem);
  }
}
