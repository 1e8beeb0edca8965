package dev.docstream.inference.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A linear layer {@code y = W x + b} that LoRA can adapt.
 *
 * <p>Three ways to carry an adapter: merged into {@code W} by the {@link MergeEngine} (the fast
 * path, no extra work per call); unmerged, as an attached pair {@code (A, B)} computed as {@code W
 * x + s * B (A x)} (for checking the merge and for groups too small to repay a merge); or as
 * trainable {@code lora_A}/{@code lora_B} parameters when the layer is built with a rank, for
 * training an adapter with the base weights frozen.
 */
public final class LoraLinear extends AbstractBlock {
  private final int inFeatures;
  private final int outFeatures;
  private final Parameter weight;
  private final Parameter bias;
  private final Parameter loraA;
  private final Parameter loraB;
  private final float trainableScale;
  private NDArray attachedA;
  private NDArray attachedB;
  private float attachedScale;
  private NDArray mixedA;
  private NDArray mixedB;
  private NDArray mixedScale;
  private boolean sharedInput;

  /**
   * A layer without trainable LoRA parameters.
   *
   * @param inFeatures input width
   * @param outFeatures output width
   */
  public LoraLinear(int inFeatures, int outFeatures) {
    this(inFeatures, outFeatures, 0, 0f);
  }

  /**
   * A layer with trainable {@code lora_A} (rank x in) and {@code lora_B} (out x rank) when rank is
   * positive.
   *
   * @param rank LoRA rank r, or 0 for none
   * @param alpha LoRA alpha; the update is scaled by alpha / r
   */
  public LoraLinear(int inFeatures, int outFeatures, int rank, float alpha) {
    super((byte) 1);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    weight =
        addParameter(
            Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(outFeatures, inFeatures))
                .build());
    bias =
        addParameter(
            Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BIAS)
                .optShape(new Shape(outFeatures))
                .build());
    if (rank > 0) {
      loraA =
          addParameter(
              Parameter.builder()
                  .setName("lora_A")
                  .setType(Parameter.Type.WEIGHT)
                  .optShape(new Shape(rank, inFeatures))
                  .build());
      loraB =
          addParameter(
              Parameter.builder()
                  .setName("lora_B")
                  .setType(Parameter.Type.WEIGHT)
                  .optShape(new Shape(outFeatures, rank))
                  .build());
      trainableScale = alpha / rank;
    } else {
      loraA = null;
      loraB = null;
      trainableScale = 0f;
    }
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    NDArray w = ps.getValue(weight, x.getDevice(), training);
    NDArray b = ps.getValue(bias, x.getDevice(), training);
    NDArray y = Linear.linear(x, w, b).singletonOrThrow();
    if (loraA != null) {
      NDArray a = ps.getValue(loraA, x.getDevice(), training);
      NDArray bb = ps.getValue(loraB, x.getDevice(), training);
      y = y.add(lowRank(x, a, bb, trainableScale));
    }
    if (attachedA != null) {
      y = y.add(lowRank(x, attachedA, attachedB, attachedScale));
    }
    if (mixedA != null) {
      y = mixedLowRank(x, y);
    }
    return new NDList(y);
  }

  /**
   * Adds each sample's own {@code s_i B_i (A_i x_i)} with batched matmuls over the gathered
   * per-sample matrices. Rows of x are samples, or samples x k in sample-major order (the decoder's
   * lines, one per sample and field), or, for a layer whose input is shared by every sample (the
   * field queries), the output gains a sample dimension: {@code (n, rows, out)}.
   */
  private NDArray mixedLowRank(NDArray x, NDArray y) {
    long n = mixedA.getShape().get(0);
    NDArray a = mixedA;
    NDArray b = mixedB;
    NDArray s = mixedScale.reshape(n, 1, 1);
    if (sharedInput) {
      NDArray ax = a.matMul(x.transpose()); // (n, r, rows)
      NDArray low = b.matMul(ax).transpose(0, 2, 1).mul(s); // (n, rows, out)
      return y.expandDims(0).add(low);
    }
    long rows = x.getShape().get(0);
    if (rows % n != 0) {
      throw new IllegalStateException(
          "input of " + rows + " rows is not a multiple of the " + n + " samples attached");
    }
    long k = rows / n;
    if (k > 1) {
      a = a.repeat(0, k);
      b = b.repeat(0, k);
      s = s.repeat(0, k);
    }
    boolean flat = x.getShape().dimension() == 2;
    NDArray x3 = flat ? x.expandDims(1) : x; // (rows, tokens, in)
    NDArray low = x3.matMul(a.transpose(0, 2, 1)).matMul(b.transpose(0, 2, 1)).mul(s);
    return y.add(flat ? low.squeeze(1) : low);
  }

  /**
   * Runs a different adapter for each sample of the next forward passes, unmerged, until {@link
   * #detachMixed()}: the S-LoRA/Punica way of serving many adapters in one batch.
   *
   * @param a per-sample A matrices {@code (n, r, in)} (zeros for a sample without an adapter)
   * @param b per-sample B matrices {@code (n, out, r)}
   * @param scales per-sample scales {@code (n)}
   */
  public void attachMixed(NDArray a, NDArray b, NDArray scales) {
    mixedA = a;
    mixedB = b;
    mixedScale = scales;
  }

  /** Removes the per-sample adapters of {@link #attachMixed}. */
  public void detachMixed() {
    mixedA = null;
    mixedB = null;
    mixedScale = null;
  }

  /**
   * Marks this layer's input as shared by every sample of a batch (the model's field queries), so
   * that per-sample adapters give it a sample dimension.
   */
  public LoraLinear sharedInput() {
    sharedInput = true;
    return this;
  }

  /** s * B (A x), with the scale as an array of x's manager (never a bare Number, see README). */
  private static NDArray lowRank(NDArray x, NDArray a, NDArray b, float scale) {
    NDArray s = x.getManager().create(scale);
    return Linear.linear(Linear.linear(x, a).singletonOrThrow(), b).singletonOrThrow().mul(s);
  }

  /**
   * Attaches an adapter to run unmerged: every forward then adds {@code scale * B (A x)}.
   *
   * @param a the rank x in matrix
   * @param b the out x rank matrix
   */
  public void attachUnmerged(NDArray a, NDArray b, float scale) {
    attachedA = a;
    attachedB = b;
    attachedScale = scale;
  }

  /** Removes an adapter attached with {@link #attachUnmerged}. */
  public void detachUnmerged() {
    attachedA = null;
    attachedB = null;
  }

  /** The weight matrix the layer computes with (out x in); the merge engine writes into it. */
  public Parameter weight() {
    return weight;
  }

  /** The bias vector. */
  public Parameter bias() {
    return bias;
  }

  /** The trainable lora_A parameter, or null when the layer was built without a rank. */
  public Parameter loraA() {
    return loraA;
  }

  /** The trainable lora_B parameter, or null when the layer was built without a rank. */
  public Parameter loraB() {
    return loraB;
  }

  /** Input width. */
  public int inFeatures() {
    return inFeatures;
  }

  /** Output width. */
  public int outFeatures() {
    return outFeatures;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape in = inputShapes[0];
    return new Shape[] {in.slice(0, in.dimension() - 1).add(outFeatures)};
  }
}
