package dev.docstream.app.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.testing.TestAdapters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * Adapter folders as Python PEFT 0.19 saves them: the shipped adapter's weights with an
 * adapter_config.json of PEFT's full key set and defaults, short target names, no docstream_ keys.
 */
final class PeftConfigs {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PeftConfigs() {}

  /** Writes {@code into} from a shipped adapter folder; {@code edit} may change the config. */
  static Path peft019(Path shipped, Path into, Consumer<ObjectNode> edit) throws IOException {
    Files.createDirectories(into);
    Files.copy(shipped.resolve(PeftAdapter.WEIGHTS), into.resolve(PeftAdapter.WEIGHTS));
    ObjectNode original = (ObjectNode) JSON.readTree(shipped.resolve(AdapterConfig.FILE).toFile());
    // PEFT shortens a long target list to suffixes; so do we.
    ObjectNode n =
        TestAdapters.peft019(
            original.get("r").asInt(),
            original.get("lora_alpha").asDouble(),
            List.of("qkv", "proj", "fc1", "fc2", "query", "key", "value", "head"));
    edit.accept(n);
    Files.writeString(
        into.resolve(AdapterConfig.FILE),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
    return into;
  }
}
