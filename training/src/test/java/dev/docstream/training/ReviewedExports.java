package dev.docstream.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.IdentitySampler;
import dev.docstream.training.synth.SyntheticDocument;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes rendered synthetic documents as {@code docstream qc export} writes reviewed ones (see the
 * app's {@code QcExport}): {@code manifest.jsonl} and {@code images/<sha256>.png}, each document's
 * labels its ground truth.
 */
public final class ReviewedExports {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ReviewedExports() {}

  /** {@code count} documents of {@code type}, rendered as the training stream renders them. */
  public static List<SyntheticDocument> render(String type, int count, long seed) {
    DocumentTypeSpec spec = DocumentTypeSpec.forId(type);
    Random rnd = new Random(seed);
    List<SyntheticDocument> docs = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      docs.add(
          DocumentRenderer.render(
              spec, IdentitySampler.sample(spec, rnd), DocumentRenderer.Augmentation.MILD, rnd));
    }
    return docs;
  }

  /** One manifest line's object, the labels the document's ground truth. */
  public static Map<String, Object> line(String jobId, SyntheticDocument doc, String image) {
    Map<String, Object> labels = new LinkedHashMap<>();
    doc.identity().groundTruth().forEach((f, v) -> labels.put(f.name(), v));
    return line(jobId, doc.documentType(), image, labels);
  }

  /** One manifest line's object. */
  public static Map<String, Object> line(
      String jobId, String type, String image, Map<String, Object> labels) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job_id", jobId);
    m.put("document_type", type);
    m.put("adapter_id", type + "@1");
    m.put("verdict", "CORRECTED");
    m.put("image", image);
    m.put("labels", labels);
    return m;
  }

  /** Writes the image under {@code images/} by its sha256; returns its path in the folder. */
  public static String writeImage(Path folder, SyntheticDocument doc) throws IOException {
    byte[] png = doc.png();
    String file = "images/" + sha256(png) + ".png";
    Files.createDirectories(folder.resolve("images"));
    Files.write(folder.resolve(file), png);
    return file;
  }

  /** Writes a whole export of {@code docs}, their ground truth as labels. */
  public static void write(Path folder, List<SyntheticDocument> docs) throws IOException {
    List<Map<String, Object>> lines = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      lines.add(line("job-1-" + i, docs.get(i), writeImage(folder, docs.get(i))));
    }
    writeManifest(folder, lines);
  }

  /** Writes the manifest, one object a line. */
  public static void writeManifest(Path folder, List<?> lines) throws IOException {
    StringBuilder out = new StringBuilder();
    for (Object l : lines) {
      out.append(l instanceof String s ? s : JSON.writeValueAsString(l)).append('\n');
    }
    Files.createDirectories(folder);
    Files.writeString(folder.resolve(ReviewedDocuments.MANIFEST), out.toString());
  }

  /** The labels of a document as a mutable map by field name, for tests that change some. */
  public static Map<String, Object> labels(SyntheticDocument doc) {
    Map<String, Object> labels = new LinkedHashMap<>();
    for (DocumentField f : DocumentField.values()) {
      labels.put(f.name(), doc.identity().groundTruth().get(f));
    }
    return labels;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
