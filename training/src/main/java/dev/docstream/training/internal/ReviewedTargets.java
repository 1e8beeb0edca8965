package dev.docstream.training.internal;

import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.decoding.CharacterSet;
import dev.docstream.inference.model.decoding.TextAlignment;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.ReviewedDocuments;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Frame targets for reviewed documents, whose labels are canonical values and whose characters'
 * positions nobody recorded: by forced alignment. Each label is turned back into the text the type
 * prints ({@link DocumentRenderer#printedText(DocumentTypeSpec, DocumentField, String)}: its date
 * format, its name casing), the model's logits for the image are searched for the best frame path
 * that reads exactly that text ({@link TextAlignment}), and the middle of each character's run
 * stands for the character centre the renderer reports for a synthetic document: the frames are
 * then labelled as {@link BatchData} labels synthetic ones (each glyph's core, blanks elsewhere).
 *
 * <p>A field gets no weight at all where its label is null or absent, where it cannot be printed (a
 * date that does not parse, a character the model cannot read), or where no path reads it.
 */
public final class ReviewedTargets {
  /** Images per forward pass of the aligning model. */
  private static final int CHUNK = 32;

  // What became of a field: the indexes of Counts' components after documents.
  private static final int ALIGNED = 0;
  private static final int UNLABELLED = 1;
  private static final int UNPRINTABLE = 2;
  private static final int UNALIGNED = 3;

  private ReviewedTargets() {}

  /**
   * One reviewed document as {@link BatchData} holds a document: normalised pixels (H x W), classes
   * and weights (F x T).
   */
  public record Sample(float[] pixels, float[] classes, float[] weights) {}

  /**
   * What became of the reviewed fields, in counts only (the labels are personal data).
   *
   * @param aligned fields trained on
   * @param unlabelled fields whose label is null or absent
   * @param unprintable labels that cannot be printed as the type prints them, or read by the model
   * @param unaligned labels that no frame path reads
   */
  public record Counts(int documents, int aligned, int unlabelled, int unprintable, int unaligned) {
    /** One line, for the training log. */
    public String describe() {
      return String.format(
          Locale.ROOT,
          "%d documents, %d fields aligned (%d without a label, %d not printable, %d not alignable)",
          documents,
          aligned,
          unlabelled,
          unprintable,
          unaligned);
    }
  }

  /** The samples, in the documents' order, and the counts. */
  public record Targets(List<Sample> samples, Counts counts) {}

  /** The model that aligns: raw logits {@code (B, F, T, C)} for {@code n} preprocessed images. */
  public interface Model {
    float[] logits(float[] pixels, int n);
  }

  /** Aligns every reviewed document of {@code spec}'s type with {@code model}. */
  public static Targets align(
      List<ReviewedDocuments.Document> docs,
      DocumentTypeSpec spec,
      ModelConfig config,
      Model model) {
    ImagePreprocessor pre = new ImagePreprocessor(config);
    int fields = DocumentField.values().length;
    int frames = config.frames();
    int classes = CharacterSet.CLASSES;
    List<Sample> samples = new ArrayList<>(docs.size());
    int[] counts = new int[4];
    for (int from = 0; from < docs.size(); from += CHUNK) {
      List<ReviewedDocuments.Document> chunk =
          docs.subList(from, Math.min(docs.size(), from + CHUNK));
      float[] pixels = new float[chunk.size() * pre.inputSize()];
      for (int i = 0; i < chunk.size(); i++) {
        pre.toInput(chunk.get(i).image(), pixels, i * pre.inputSize());
      }
      float[] logits = model.logits(pixels, chunk.size());
      for (int i = 0; i < chunk.size(); i++) {
        float[] cls = new float[fields * frames];
        float[] weights = new float[fields * frames];
        Arrays.fill(weights, 1f);
        for (DocumentField f : DocumentField.values()) {
          int base = f.ordinal() * frames;
          int outcome =
              label(
                  spec,
                  f,
                  chunk.get(i).labels().get(f),
                  logits,
                  (i * fields + f.ordinal()) * frames * classes,
                  frames,
                  cls,
                  weights,
                  base);
          counts[outcome]++;
          if (outcome != ALIGNED) {
            Arrays.fill(weights, base, base + frames, 0f);
          }
        }
        samples.add(
            new Sample(
                Arrays.copyOfRange(pixels, i * pre.inputSize(), (i + 1) * pre.inputSize()),
                cls,
                weights));
      }
    }
    return new Targets(
        List.copyOf(samples),
        new Counts(
            docs.size(),
            counts[ALIGNED],
            counts[UNLABELLED],
            counts[UNPRINTABLE],
            counts[UNALIGNED]));
  }

  /** Labels one field's frames from its alignment; returns what became of it. */
  private static int label(
      DocumentTypeSpec spec,
      DocumentField field,
      String canonical,
      float[] logits,
      int offset,
      int frames,
      float[] classes,
      float[] weights,
      int base) {
    if (canonical == null || canonical.isBlank()) {
      return UNLABELLED;
    }
    String printed = DocumentRenderer.printedText(spec, field, canonical);
    if (printed == null) {
      return UNPRINTABLE;
    }
    String text = printed.toUpperCase(Locale.ROOT);
    if (text.chars().anyMatch(c -> CharacterSet.classOf((char) c) < 0)) {
      return UNPRINTABLE;
    }
    TextAlignment alignment = TextAlignment.align(logits, offset, frames, text);
    if (!alignment.isPossible()) {
      return UNALIGNED;
    }
    double[] centers = new double[text.length()];
    for (int i = 0; i < centers.length; i++) {
      centers[i] = alignment.center(i);
    }
    BatchData.labelCharacters(text, centers, frames, classes, weights, base);
    return ALIGNED;
  }
}
