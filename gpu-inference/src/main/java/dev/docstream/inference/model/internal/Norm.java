package dev.docstream.inference.model.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Layer normalisation over the last axis, with named gamma and beta. */
public final class Norm extends AbstractBlock {
  private final int dim;
  private final Parameter gamma;
  private final Parameter beta;

  public Norm(int dim) {
    super((byte) 1);
    this.dim = dim;
    gamma =
        addParameter(
            Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.GAMMA)
                .optShape(new Shape(dim))
                .build());
    beta =
        addParameter(
            Parameter.builder()
                .setName("bias")
                .setType(Parameter.Type.BETA)
                .optShape(new Shape(dim))
                .build());
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    return LayerNorm.layerNorm(
        x,
        new Shape(dim),
        ps.getValue(gamma, x.getDevice(), training),
        ps.getValue(beta, x.getDevice(), training),
        1e-5f);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
