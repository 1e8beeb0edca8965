package dev.docstream.inference.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.docstream.inference.lora.LoraLinear;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A pre-norm transformer encoder layer: multi-head self-attention then a GELU MLP, each with a
 * residual. DJL has no general multi-head attention block, so it is written out here.
 */
public final class TransformerLayer extends AbstractBlock {
  private final int dim;
  private final int heads;
  private final Norm norm1;
  private final LoraLinear qkv;
  private final LoraLinear proj;
  private final Norm norm2;
  private final LoraLinear fc1;
  private final LoraLinear fc2;

  /**
   * @param adapted which of this layer's linears (attn.qkv, attn.proj, mlp.fc1, mlp.fc2) get
   *     trainable LoRA parameters of the given rank
   */
  public TransformerLayer(
      int dim, int heads, int mlpRatio, int rank, float alpha, Predicate<String> adapted) {
    super((byte) 1);
    this.dim = dim;
    this.heads = heads;
    norm1 = addChildBlock("norm1", new Norm(dim));
    qkv = addChildBlock("qkv", linear(dim, 3 * dim, "attn.qkv", rank, alpha, adapted));
    proj = addChildBlock("proj", linear(dim, dim, "attn.proj", rank, alpha, adapted));
    norm2 = addChildBlock("norm2", new Norm(dim));
    fc1 = addChildBlock("fc1", linear(dim, mlpRatio * dim, "mlp.fc1", rank, alpha, adapted));
    fc2 = addChildBlock("fc2", linear(mlpRatio * dim, dim, "mlp.fc2", rank, alpha, adapted));
  }

  private static LoraLinear linear(
      int in, int out, String name, int rank, float alpha, Predicate<String> adapted) {
    return rank > 0 && adapted.test(name)
        ? new LoraLinear(in, out, rank, alpha)
        : new LoraLinear(in, out);
  }

  /**
   * The adaptable linear layers under their module names relative to this layer, in forward order
   * (a fixed order, so that adapter files list their modules the same way on every run).
   */
  public Map<String, LoraLinear> linears() {
    Map<String, LoraLinear> m = new LinkedHashMap<>();
    m.put("attn.qkv", qkv);
    m.put("attn.proj", proj);
    m.put("mlp.fc1", fc1);
    m.put("mlp.fc2", fc2);
    return Collections.unmodifiableMap(m);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow(); // (B, N, D)
    long batch = x.getShape().get(0);
    long n = x.getShape().get(1);
    long headDim = dim / heads;
    NDArray h = norm1.forward(ps, new NDList(x), training).singletonOrThrow();
    NDArray qkvOut =
        qkv.forward(ps, new NDList(h), training)
            .singletonOrThrow()
            .reshape(batch, n, 3, heads, headDim)
            .transpose(2, 0, 3, 1, 4); // (3, B, H, N, hd)
    NDList parts = qkvOut.split(3, 0);
    NDArray q = parts.get(0).squeeze(0);
    NDArray k = parts.get(1).squeeze(0);
    NDArray v = parts.get(2).squeeze(0);
    NDArray scale = x.getManager().create((float) (1.0 / Math.sqrt(headDim)));
    NDArray attn = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).softmax(-1);
    NDArray ctx = attn.matMul(v).transpose(0, 2, 1, 3).reshape(batch, n, dim);
    x = x.add(proj.forward(ps, new NDList(ctx), training).singletonOrThrow());
    NDArray m = norm2.forward(ps, new NDList(x), training).singletonOrThrow();
    m = Activation.gelu(fc1.forward(ps, new NDList(m), training).singletonOrThrow());
    x = x.add(fc2.forward(ps, new NDList(m), training).singletonOrThrow());
    return new NDList(x);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = inputShapes[0];
    Shape hidden = in.slice(0, in.dimension() - 1).add(fc1.outFeatures());
    norm1.initialize(manager, dataType, in);
    qkv.initialize(manager, dataType, in);
    proj.initialize(manager, dataType, in);
    norm2.initialize(manager, dataType, in);
    fc1.initialize(manager, dataType, in);
    fc2.initialize(manager, dataType, hidden);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
