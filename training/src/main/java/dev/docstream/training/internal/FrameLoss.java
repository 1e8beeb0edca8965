package dev.docstream.training.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;
import dev.docstream.inference.model.decoding.CharacterSet;

/**
 * Weighted cross-entropy over character frames. Labels: {@code (B, F, T)} class ids and {@code (B,
 * F, T)} weights; the renderer knows where every character is printed, so each character gets the
 * frame nearest its centre and every other frame is blank. Dense per-frame supervision learns to
 * read far faster than CTC's alignment search, and decoding stays CTC-style.
 *
 * <p>When the labels also hold one-hot token rows {@code (B, gh, gw, F)} (where each field is
 * printed) and the predictions hold the row-attention scores, a cross-entropy on where each field's
 * attention looks is added: the model learns to find lines before it can read them.
 */
public final class FrameLoss extends Loss {

  public FrameLoss() {
    super("frame_ce");
  }

  @Override
  public NDArray evaluate(NDList labels, NDList predictions) {
    NDArray logits = predictions.get(0);
    NDArray classes = labels.get(0);
    NDArray weights = labels.get(1);
    NDArray logp = logits.logSoftmax(-1);
    NDArray picked = logp.mul(classes.oneHot(CharacterSet.CLASSES)).sum(new int[] {-1});
    // sum(w * -log p) / sum(w), written without Number operands (see the GC note in the README).
    NDArray loss = picked.mul(weights).sum().neg().div(weights.sum());
    if (labels.size() > 2 && predictions.size() > 1) {
      // rows is one-hot over axis 1 where supervised and all-zero elsewhere, so this is the mean
      // cross-entropy over supervised (image, column, field) cells.
      NDArray rows = labels.get(2);
      NDArray rowLogp = predictions.get(1).logSoftmax(1);
      loss = loss.add(rowLogp.mul(rows).sum().neg().div(rows.sum()));
    }
    return loss;
  }
}
