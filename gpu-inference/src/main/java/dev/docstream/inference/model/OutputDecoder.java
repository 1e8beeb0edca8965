package dev.docstream.inference.model;

import dev.docstream.schemas.DocumentField;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Reads the model's frame logits as text: best class per frame, collapse repeats, drop blanks. */
public final class OutputDecoder {
  private static final DocumentField[] FIELDS = DocumentField.values();

  private OutputDecoder() {}

  /**
   * Decodes a batch of logits laid out as {@code (B, F, T, C)}.
   *
   * @return one map per image, every field present
   */
  public static List<Map<DocumentField, FieldReading>> decode(float[] logits, int batch, int frames) {
    int classes = CharacterSet.CLASSES;
    List<Map<DocumentField, FieldReading>> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      Map<DocumentField, FieldReading> fields = new EnumMap<>(DocumentField.class);
      for (int f = 0; f < FIELDS.length; f++) {
        StringBuilder text = new StringBuilder();
        double logConfidence = 0;
        int previous = CharacterSet.BLANK;
        for (int t = 0; t < frames; t++) {
          int base = ((b * FIELDS.length + f) * frames + t) * classes;
          int best = 0;
          float max = logits[base];
          for (int c = 1; c < classes; c++) {
            if (logits[base + c] > max) {
              max = logits[base + c];
              best = c;
            }
          }
          double sum = 0;
          for (int c = 0; c < classes; c++) {
            sum += Math.exp(logits[base + c] - max);
          }
          logConfidence -= Math.log(sum);
          if (best != CharacterSet.BLANK && best != previous) {
            text.append(CharacterSet.charOf(best));
          }
          previous = best;
        }
        String raw = text.toString();
        String value = FieldNormalizer.normalize(FIELDS[f], raw);
        double confidence = value == null ? 0 : Math.exp(logConfidence);
        fields.put(FIELDS[f], new FieldReading(value == null ? raw.trim() : value, raw, confidence));
      }
      out.add(fields);
    }
    return out;
  }
}
