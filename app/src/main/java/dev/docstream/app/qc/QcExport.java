package dev.docstream.app.qc;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.QcTask;
import dev.docstream.schemas.QcVerdict;
import dev.docstream.schemas.Verdict;
import dev.docstream.topology.images.ImageStore;
import dev.docstream.topology.qc.review.QualityFigures;
import dev.docstream.topology.qc.review.ReviewQueue;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code docstream qc export}: analysts' corrections as training data. Writes one folder: {@code
 * manifest.jsonl} (one reviewed document per line: job id, document type, the adapter that read it,
 * the verdict, the image's path, and the labels: each reviewed field's value as the analyst left
 * it, null where the field is not on the document) and {@code images/<sha256>.png}. This is what
 * {@code docstream train adapter --reviewed} reads (training's {@code ReviewedDocuments}).
 *
 * <p>UNREADABLE verdicts are left out (nothing to learn from), and so are documents whose image has
 * passed its retention. The folder holds personal data: keep it where the images were kept.
 */
public final class QcExport {
  /** What an export wrote. */
  public record Counts(
      int exported, int corrected, int unreadable, int imageMissing, Map<String, Integer> byType) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private QcExport() {}

  /**
   * Exports the decided tasks of {@code types} (empty: all).
   *
   * @param out created if missing; an existing manifest is replaced
   */
  public static Counts export(ReviewQueue queue, ImageStore images, Set<String> types, Path out)
      throws IOException {
    Files.createDirectories(out.resolve("images"));
    int exported = 0;
    int corrected = 0;
    int unreadable = 0;
    int missing = 0;
    Map<String, Integer> byType = new TreeMap<>();
    List<ReviewQueue.Reviewed> reviewed = new ArrayList<>(queue.reviewed());
    reviewed.sort((a, b) -> a.task().getJobId().compareTo(b.task().getJobId()));
    Path tmp = out.resolve("manifest.jsonl.tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      for (ReviewQueue.Reviewed r : reviewed) {
        QcTask t = r.task();
        if (!types.isEmpty() && !types.contains(t.getDocumentType())) {
          continue;
        }
        if (r.verdict().getVerdict() == Verdict.UNREADABLE) {
          unreadable++;
          continue;
        }
        Optional<byte[]> image =
            t.getImageSha256() == null ? Optional.empty() : images.get(t.getImageSha256());
        if (image.isEmpty()) {
          missing++;
          continue;
        }
        String file = "images/" + t.getImageSha256() + ".png";
        if (!Files.exists(out.resolve(file))) {
          Files.write(out.resolve(file), image.get());
        }
        w.write(JSON.writeValueAsString(line(t, r.verdict(), file)));
        w.newLine();
        exported++;
        corrected += r.verdict().getVerdict() == Verdict.CORRECTED ? 1 : 0;
        byType.merge(t.getDocumentType(), 1, Integer::sum);
      }
    }
    Files.move(
        tmp, out.resolve("manifest.jsonl"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return new Counts(exported, corrected, unreadable, missing, byType);
  }

  private static Map<String, Object> line(QcTask t, QcVerdict v, String image) {
    Map<String, Object> labels = new LinkedHashMap<>();
    for (ExtractedField f : t.getFields()) {
      String value = f.getValue();
      if (!QualityFigures.fieldCorrect(f, v)) {
        value =
            v.getCorrections().stream()
                .filter(c -> c.getField() == f.getField())
                .findFirst()
                .map(ExtractedField::getValue)
                .orElse(null);
      }
      labels.put(f.getField().name(), value);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("job_id", t.getJobId());
    m.put("document_type", t.getDocumentType());
    m.put("adapter_id", t.getAdapterId());
    m.put("verdict", v.getVerdict().name());
    m.put("image", image);
    m.put("labels", labels);
    return m;
  }
}
