package dev.docstream.inference.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.docstream.inference.lora.LoraLinear;
import dev.docstream.inference.lora.LoraSpec;
import dev.docstream.inference.model.decoding.CharacterSet;
import dev.docstream.inference.model.internal.Norm;
import dev.docstream.inference.model.internal.TransformerLayer;
import dev.docstream.schemas.DocumentField;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The document-extraction model: a small vision transformer that reads every field at once.
 *
 * <p>A stride-8 convolutional stem turns the grey image into a grid of tokens, which a transformer
 * encoder mixes. The decoder has one learned query per field; for each token column it attends over
 * the rows to pick out the line where that field's value is printed, a transformer layer runs along
 * the columns, and a linear head emits {@code framesPerColumn} character frames per column. Frames
 * are read like CTC output: collapse repeats, drop blanks.
 *
 * <p>Input: {@code (B, 1, H, W)} normalised pixels. Output: logits {@code (B, F, T, C)} for F
 * fields, T frames and C character classes; in training also the row-attention scores {@code (B,
 * gh, gw, F)}.
 */
public final class ExtractionModel extends AbstractBlock {
  private static final int FIELDS = DocumentField.values().length;

  private final ModelConfig config;
  private final Conv2d conv1;
  private final Conv2d conv2;
  private final Conv2d conv3;
  private final Parameter position;
  private final Parameter fieldQueries;
  private final Parameter fieldEmbedding;
  private final Parameter columnPosition;
  private final TransformerLayer[] encoder;
  private final Norm encoderNorm;
  private final LoraLinear query;
  private final LoraLinear key;
  private final LoraLinear value;
  private final TransformerLayer decoder;
  private final Norm decoderNorm;
  private final LoraLinear head;
  private final Map<String, LoraLinear> linears = new LinkedHashMap<>();

  /** A model without trainable LoRA parameters (for base training and serving). */
  public ExtractionModel(ModelConfig config) {
    this(config, null);
  }

  /**
   * A model whose targeted linear layers carry trainable LoRA parameters.
   *
   * @param lora the adapter layout, or null for none
   */
  public ExtractionModel(ModelConfig config, LoraSpec lora) {
    super((byte) 1);
    this.config = config.validate();
    int d = config.dim();
    conv1 = addChildBlock("conv1", conv(config.stemChannels()[0]));
    conv2 = addChildBlock("conv2", conv(config.stemChannels()[1]));
    conv3 = addChildBlock("conv3", conv(d));
    int tokens = config.gridHeight() * config.gridWidth();
    position = addParameter(param("position", new Shape(tokens, d)));
    fieldQueries = addParameter(param("field_queries", new Shape(FIELDS, d)));
    fieldEmbedding = addParameter(param("field_embedding", new Shape(FIELDS, 1, d)));
    columnPosition = addParameter(param("column_position", new Shape(config.gridWidth(), d)));
    encoder = new TransformerLayer[config.encoderLayers()];
    for (int i = 0; i < encoder.length; i++) {
      String path = "encoder.layers." + i;
      encoder[i] = addChildBlock("encoder" + i, layer(path, lora));
    }
    encoderNorm = addChildBlock("encoder_norm", new Norm(d));
    query = addChildBlock("query", linear("decoder.query", d, d, lora).sharedInput());
    key = addChildBlock("key", linear("decoder.key", d, d, lora));
    value = addChildBlock("value", linear("decoder.value", d, d, lora));
    decoder = addChildBlock("decoder", layer("decoder.layer", lora));
    decoderNorm = addChildBlock("decoder_norm", new Norm(d));
    head =
        addChildBlock(
            "head",
            linear("decoder.head", d, config.framesPerColumn() * CharacterSet.CLASSES, lora));
  }

  private static Conv2d conv(int filters) {
    return Conv2d.builder()
        .setKernelShape(new Shape(3, 3))
        .optStride(new Shape(2, 2))
        .optPadding(new Shape(1, 1))
        .setFilters(filters)
        .build();
  }

  private static Parameter param(String name, Shape shape) {
    return Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).optShape(shape).build();
  }

  private TransformerLayer layer(String path, LoraSpec lora) {
    int rank = lora == null ? 0 : lora.rank();
    float alpha = lora == null ? 0 : lora.alpha();
    TransformerLayer layer =
        new TransformerLayer(
            config.dim(),
            config.heads(),
            config.mlpRatio(),
            rank,
            alpha,
            name -> lora != null && lora.targets(path + "." + name));
    layer.linears().forEach((n, l) -> linears.put(path + "." + n, l));
    return layer;
  }

  private LoraLinear linear(String path, int in, int out, LoraSpec lora) {
    LoraLinear l =
        lora != null && lora.targets(path)
            ? new LoraLinear(in, out, lora.rank(), lora.alpha())
            : new LoraLinear(in, out);
    linears.put(path, l);
    return l;
  }

  /** The model's shape. */
  public ModelConfig config() {
    return config;
  }

  /** Every linear layer by its module path (the names PEFT files use), in a stable order. */
  public Map<String, LoraLinear> linears() {
    return Collections.unmodifiableMap(linears);
  }

  /**
   * Each linear layer's weight shape {out, in} by module path: what an adapter's lora_A (r x in)
   * and lora_B (out x r) are checked against.
   */
  public Map<String, int[]> moduleShapes() {
    Map<String, int[]> shapes = new LinkedHashMap<>();
    linears.forEach((path, l) -> shapes.put(path, new int[] {l.outFeatures(), l.inFeatures()}));
    return shapes;
  }

  /** The input shape for a batch of n images. */
  public Shape inputShape(int n) {
    return new Shape(n, 1, config.imageHeight(), config.imageWidth());
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.singletonOrThrow();
    long b = x.getShape().get(0);
    int d = config.dim();
    int gh = config.gridHeight();
    int gw = config.gridWidth();
    x = Activation.gelu(conv1.forward(ps, new NDList(x), training).singletonOrThrow());
    x = Activation.gelu(conv2.forward(ps, new NDList(x), training).singletonOrThrow());
    x = conv3.forward(ps, new NDList(x), training).singletonOrThrow(); // (B, d, gh, gw)
    x =
        x.transpose(0, 2, 3, 1)
            .reshape(b, (long) gh * gw, d)
            .add(ps.getValue(position, x.getDevice(), training));
    for (TransformerLayer layer : encoder) {
      if (training) {
        x = layer.forward(ps, new NDList(x), true).singletonOrThrow();
        continue;
      }
      // Inference frees each layer's intermediates as it goes: at ViT-B width a batch of 32 would
      // otherwise hold about 1 GB of them per layer until the pass ends.
      try (NDScope scope = new NDScope()) {
        x = layer.forward(ps, new NDList(x), false).singletonOrThrow();
        NDScope.unregister(x);
      }
    }
    x = encoderNorm.forward(ps, new NDList(x), training).singletonOrThrow();

    // Per field and token column: attention over the rows picks the field's line.
    NDArray k = key.forward(ps, new NDList(x), training).singletonOrThrow();
    NDArray v =
        value
            .forward(ps, new NDList(x), training)
            .singletonOrThrow()
            .reshape(b, gh, gw, d)
            .transpose(0, 2, 1, 3); // (B, gw, gh, d)
    NDArray q =
        query
            .forward(ps, new NDList(ps.getValue(fieldQueries, x.getDevice(), training)), training)
            .singletonOrThrow();
    NDArray scale = x.getManager().create((float) (1.0 / Math.sqrt(d)));
    // q is (F, d), or (B, F, d) when every sample runs its own adapter unmerged.
    NDArray qt = q.getShape().dimension() == 3 ? q.transpose(0, 2, 1) : q.transpose();
    NDArray rowScores = k.matMul(qt).mul(scale).reshape(b, gh, gw, FIELDS); // (B, gh, gw, F)
    NDArray rows = rowScores.softmax(1).transpose(0, 2, 3, 1); // (B, gw, F, gh)
    NDArray lines =
        rows.matMul(v)
            .transpose(0, 2, 1, 3) // (B, F, gw, d)
            .add(ps.getValue(fieldEmbedding, x.getDevice(), training))
            .add(ps.getValue(columnPosition, x.getDevice(), training))
            .reshape(b * FIELDS, gw, d);
    lines = decoder.forward(ps, new NDList(lines), training).singletonOrThrow();
    lines = decoderNorm.forward(ps, new NDList(lines), training).singletonOrThrow();
    NDArray logits =
        head.forward(ps, new NDList(lines), training)
            .singletonOrThrow()
            .reshape(b, FIELDS, (long) gw * config.framesPerColumn(), CharacterSet.CLASSES);
    // Training also returns the row scores, which FrameLoss supervises with the renderer's rows.
    return training ? new NDList(logits, rowScores) : new NDList(logits);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    Shape in = inputShapes[0];
    long b = in.get(0);
    int[] stem = config.stemChannels();
    conv1.initialize(manager, dataType, in);
    conv2.initialize(manager, dataType, new Shape(b, stem[0], in.get(2) / 2, in.get(3) / 2));
    conv3.initialize(manager, dataType, new Shape(b, stem[1], in.get(2) / 4, in.get(3) / 4));
    Shape tokens = new Shape(b, (long) config.gridHeight() * config.gridWidth(), config.dim());
    for (TransformerLayer layer : encoder) {
      layer.initialize(manager, dataType, tokens);
    }
    encoderNorm.initialize(manager, dataType, tokens);
    query.initialize(manager, dataType, new Shape(FIELDS, config.dim()));
    key.initialize(manager, dataType, tokens);
    value.initialize(manager, dataType, tokens);
    Shape lines = new Shape(b * FIELDS, config.gridWidth(), config.dim());
    decoder.initialize(manager, dataType, lines);
    decoderNorm.initialize(manager, dataType, lines);
    head.initialize(manager, dataType, lines);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {
      new Shape(inputShapes[0].get(0), FIELDS, config.frames(), CharacterSet.CLASSES)
    };
  }
}
