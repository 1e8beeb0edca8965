package dev.docstream.inference.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/** {@link ModelConfig} as JSON, for {@code model.json}. */
final class ModelConfigJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelConfigJson() {}

  static String write(ModelConfig c) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("image_height", c.imageHeight());
    n.put("image_width", c.imageWidth());
    n.putArray("stem_channels").add(c.stemChannels()[0]).add(c.stemChannels()[1]);
    n.put("dim", c.dim());
    n.put("heads", c.heads());
    n.put("mlp_ratio", c.mlpRatio());
    n.put("encoder_layers", c.encoderLayers());
    n.put("frames_per_column", c.framesPerColumn());
    return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
  }

  static ModelConfig read(String json) throws IOException {
    JsonNode n = JSON.readTree(json);
    return new ModelConfig(
            n.get("image_height").asInt(),
            n.get("image_width").asInt(),
            new int[] {
              n.get("stem_channels").get(0).asInt(), n.get("stem_channels").get(1).asInt()
            },
            n.get("dim").asInt(),
            n.get("heads").asInt(),
            n.get("mlp_ratio").asInt(),
            n.get("encoder_layers").asInt(),
            n.get("frames_per_column").asInt())
        .validate();
  }
}
