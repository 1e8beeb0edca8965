package dev.docstream.training.internal;

import dev.docstream.inference.model.CharacterSet;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.SyntheticDocument;
import java.util.List;

/**
 * A training batch as plain arrays: normalised pixels, per-frame character classes and weights.
 * Each printed character labels the frame nearest its centre; a character whose frame is taken
 * moves to the next free one so that no character is lost. {@code rows} marks, per field, the
 * token row its value is printed on, in the columns its characters occupy.
 */
public record BatchData(
    List<SyntheticDocument> documents, float[] pixels, float[] classes, float[] weights, float[] rows) {
  /** Loss weight of a frame that holds a character; blank frames weigh 1. */
  static final float CHARACTER_WEIGHT = 2f;

  public int size() {
    return documents.size();
  }

  /** Encodes documents for a model of the given shape. */
  public static BatchData of(List<SyntheticDocument> docs, ModelConfig config) {
    ImagePreprocessor pre = new ImagePreprocessor(config);
    int fields = DocumentField.values().length;
    int frames = config.frames();
    float[] pixels = new float[docs.size() * pre.inputSize()];
    float[] classes = new float[docs.size() * fields * frames];
    float[] weights = new float[classes.length];
    java.util.Arrays.fill(weights, 1f);
    int gh = config.gridHeight();
    int gw = config.gridWidth();
    float[] rows = new float[docs.size() * gh * gw * fields];
    for (int b = 0; b < docs.size(); b++) {
      SyntheticDocument doc = docs.get(b);
      pre.toInput(doc.image(), pixels, b * pre.inputSize());
      for (DocumentField f : DocumentField.values()) {
        SyntheticDocument.PrintedField p = doc.printed().get(f);
        int base = (b * fields + f.ordinal()) * frames;
        // Only the columns under the value's own characters are told where to look: elsewhere
        // the attention is free, as nothing is read there.
        int row = Math.min(gh - 1, Math.max(0, (int) Math.floor(p.centerY() * gh)));
        for (double cx : p.charCentersX()) {
          int c = Math.min(gw - 1, Math.max(0, (int) Math.floor(cx * gw)));
          rows[((b * gh + row) * gw + c) * fields + f.ordinal()] = 1f;
        }
        int last = -1;
        for (int i = 0; i < p.text().length(); i++) {
          int cls = CharacterSet.classOf(p.text().charAt(i));
          int t = Math.max(last + 1, (int) Math.floor(p.charCentersX()[i] * frames));
          if (cls < 0 || t >= frames) {
            continue;
          }
          classes[base + t] = cls;
          weights[base + t] = CHARACTER_WEIGHT;
          last = t;
        }
      }
    }
    return new BatchData(docs, pixels, classes, weights, rows);
  }
}
