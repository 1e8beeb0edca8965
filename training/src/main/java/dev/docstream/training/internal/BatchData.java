package dev.docstream.training.internal;

import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.decoding.CharacterSet;
import dev.docstream.inference.model.decoding.OutputDecoder;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.synth.SyntheticDocument;
import java.util.Arrays;
import java.util.List;

/**
 * A training batch as plain arrays: normalised pixels, per-frame character classes and weights.
 * Each printed character labels the frames of its glyph's core (from the renderer's character
 * positions); the rest are blank, with at least one blank frame between repeated characters. {@code
 * rows} marks, per field, the token row its value is printed on, in the columns its characters
 * occupy.
 *
 * <p>A batch may end with {@code reviewed} reviewed documents after its synthetic {@code
 * documents}: their character centres come from a forced alignment ({@link ReviewedTargets}), and
 * their {@code rows} are all zero, so the row-attention loss, a mean over supervised cells, leaves
 * them out.
 */
public record BatchData(
    List<SyntheticDocument> documents,
    float[] pixels,
    float[] classes,
    float[] weights,
    float[] rows,
    int reviewed) {
  /** Loss weight of a frame that holds a character; blank frames weigh 1. */
  static final float CHARACTER_WEIGHT = 1f;

  /** Share of the distance to each neighbouring character that a character's label covers. */
  static final double CORE = 0.35;

  /** Images in the batch: the synthetic documents, then the reviewed ones. */
  public int size() {
    return documents.size() + reviewed;
  }

  /** This batch with {@code samples} appended, for a model of the given shape. */
  public BatchData withReviewed(List<ReviewedTargets.Sample> samples, ModelConfig config) {
    int inputSize = config.imageHeight() * config.imageWidth();
    int labels = DocumentField.values().length * config.frames();
    int n = samples.size();
    float[] p = Arrays.copyOf(pixels, pixels.length + n * inputSize);
    float[] c = Arrays.copyOf(classes, classes.length + n * labels);
    float[] w = Arrays.copyOf(weights, weights.length + n * labels);
    for (int i = 0; i < n; i++) {
      ReviewedTargets.Sample s = samples.get(i);
      System.arraycopy(s.pixels(), 0, p, pixels.length + i * inputSize, inputSize);
      System.arraycopy(s.classes(), 0, c, classes.length + i * labels, labels);
      System.arraycopy(s.weights(), 0, w, weights.length + i * labels, labels);
    }
    int rowCells = config.gridHeight() * config.gridWidth() * DocumentField.values().length;
    return new BatchData(
        documents, p, c, w, Arrays.copyOf(rows, rows.length + n * rowCells), reviewed + n);
  }

  /** Encodes documents for a model of the given shape. */
  public static BatchData of(List<SyntheticDocument> docs, ModelConfig config) {
    ImagePreprocessor pre = new ImagePreprocessor(config);
    int fields = DocumentField.values().length;
    int frames = config.frames();
    float[] pixels = new float[docs.size() * pre.inputSize()];
    float[] classes = new float[docs.size() * fields * frames];
    float[] weights = new float[classes.length];
    Arrays.fill(weights, 1f);
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
        double[] centers = new double[p.charCentersX().length];
        for (int i = 0; i < centers.length; i++) {
          centers[i] = p.charCentersX()[i] * frames;
        }
        labelCharacters(p.text(), centers, frames, classes, weights, base);
      }
    }
    return new BatchData(docs, pixels, classes, weights, rows, 0);
  }

  /**
   * Labels one field's frames {@code base .. base + frames - 1} in {@code classes} and {@code
   * weights} from where each character of {@code text} is centred ({@code centers}, in frames:
   * frame t spans [t, t + 1)). Characters the model cannot read are left out; frames no character
   * covers keep their labels (blank).
   */
  static void labelCharacters(
      String text, double[] centers, int frames, float[] classes, float[] weights, int base) {
    int n = text.length();
    int lastEnd = -1;
    int lastClass = CharacterSet.BLANK;
    for (int i = 0; i < n; i++) {
      int cls = CharacterSet.classOf(text.charAt(i));
      if (cls < 0) {
        continue;
      }
      // Label the core of the glyph, not just its centre frame: neighbouring frames see the
      // same pixels, and asking them for a blank would make blank win everywhere.
      double c = centers[i];
      double left = i > 0 ? c - centers[i - 1] : (i + 1 < n ? centers[i + 1] - c : 2);
      double right = i + 1 < n ? centers[i + 1] - c : left;
      int from = (int) Math.floor(c - CORE * left);
      int to = (int) Math.floor(c + CORE * right);
      // A repeated character needs a blank frame between the two, or decoding merges them.
      from = Math.max(from, cls == lastClass ? lastEnd + 2 : lastEnd + 1);
      // Keep the run as long as the decoder reads one glyph: trim the side further from the
      // centre, or lengthen a run that is too short for it.
      while (to - from + 1 > OutputDecoder.MAX_CHARACTER_FRAMES) {
        if (c - from > to + 1 - c) {
          from++;
        } else {
          to--;
        }
      }
      to = Math.max(to, from + OutputDecoder.MIN_CHARACTER_FRAMES - 1);
      to = Math.min(to, frames - 1);
      for (int t = from; t <= to; t++) {
        classes[base + t] = cls;
        weights[base + t] = CHARACTER_WEIGHT;
      }
      if (from <= to) {
        lastEnd = to;
        lastClass = cls;
      }
    }
  }
}
