package dev.docstream.adapters;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.testing.TestAdapters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** adapter_config.json as Python PEFT 0.19 writes it (keys and defaults from a real save). */
class PeftImportTest {
  private static final String SHA = "ab".repeat(32);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, int[]> SHAPES =
      Map.of(
          "encoder.layers.0.attn.qkv", new int[] {48, 16},
          "encoder.layers.1.attn.qkv", new int[] {48, 16},
          "encoder.layers.0.mlp.fc1", new int[] {32, 16},
          "decoder.head", new int[] {10, 16});
  private static final AdapterConfig.Defaults FROM_COMMAND_LINE =
      new AdapterConfig.Defaults("GBR-PASSPORT-2015", SHA);

  @TempDir Path dir;
  private PeftAdapter original;

  @BeforeEach
  void write() throws Exception {
    Random rnd = new Random(3);
    original =
        new PeftAdapter(
            new AdapterConfig(
                4,
                8f,
                List.of("encoder.layers.0.attn.qkv", "encoder.layers.1.attn.qkv"),
                "docstream-extractor",
                "GBR-PASSPORT-2015",
                SHA),
            Map.of(
                "encoder.layers.0.attn.qkv", TestAdapters.pair(rnd, 4, 48, 16),
                "encoder.layers.1.attn.qkv", TestAdapters.pair(rnd, 4, 48, 16)));
    original.write(dir);
  }

  private static ObjectNode peft019() {
    return TestAdapters.peft019(4, 8, List.of("qkv"));
  }

  private PeftAdapter read(ObjectNode config) throws Exception {
    Files.writeString(dir.resolve(AdapterConfig.FILE), JSON.writeValueAsString(config));
    return PeftAdapter.read(dir, SHA, SHAPES, FROM_COMMAND_LINE);
  }

  private String refused(ObjectNode config) {
    return assertThrows(AdapterFormatException.class, () -> read(config)).getMessage();
  }

  @Test
  void shouldReadAPeft019ConfigAsTheSameAdapter() throws Exception {
    PeftAdapter imported = read(peft019());
    assertEquals(original.config().targetModules(), imported.config().targetModules());
    assertEquals(original.config().scale(), imported.config().scale());
    assertEquals("GBR-PASSPORT-2015", imported.config().documentType());
    assertEquals(SHA, imported.config().baseModelSha256());
    for (String m : original.modules().keySet()) {
      assertArrayEquals(
          original.modules().get(m).a().data(), imported.modules().get(m).a().data(), m);
      assertArrayEquals(
          original.modules().get(m).b().data(), imported.modules().get(m).b().data(), m);
    }
  }

  @Test
  void shouldMatchARegexTargetAsPeftDoesAndHonourExcludes() throws Exception {
    ObjectNode c = peft019();
    c.put("target_modules", "encoder\\.layers\\.\\d+\\.attn\\.qkv");
    assertEquals(original.config().targetModules(), read(c).config().targetModules());
    c.put("target_modules", "qkv"); // a string must match the whole path, as re.fullmatch
    assertTrue(refused(c).contains("matches no module of the base model"), refused(c));
    ObjectNode withExclude = peft019();
    withExclude.putArray("target_modules").add("qkv").add("fc1");
    withExclude.putArray("exclude_modules").add("fc1");
    assertEquals(original.config().targetModules(), read(withExclude).config().targetModules());
  }

  @Test
  void shouldScaleByAlphaOverRootRWithRslora() throws Exception {
    ObjectNode c = peft019();
    c.put("use_rslora", true);
    AdapterConfig config = read(c).config();
    assertEquals(8f / 2f, config.scale(), 1e-6); // alpha / sqrt(4)
    Path copy = dir.resolve("copy");
    read(c).write(copy);
    assertEquals(4f, AdapterConfig.read(copy).scale(), 1e-6, "written and read back");
  }

  @Test
  void shouldRefuseWhatItDoesNotImplementNamingTheKey() {
    Map<String, java.util.function.Consumer<ObjectNode>> unsupported =
        new java.util.LinkedHashMap<>();
    unsupported.put("use_dora", c -> c.put("use_dora", true));
    unsupported.put("rank_pattern", c -> c.putObject("rank_pattern").put("qkv", 8));
    unsupported.put("alpha_pattern", c -> c.putObject("alpha_pattern").put("qkv", 16));
    unsupported.put("modules_to_save", c -> c.putArray("modules_to_save").add("head"));
    unsupported.put("fan_in_fan_out", c -> c.put("fan_in_fan_out", true));
    unsupported.put("layers_to_transform", c -> c.putArray("layers_to_transform").add(0));
    unsupported.put("lora_bias", c -> c.put("lora_bias", true));
    unsupported.put("bias", c -> c.put("bias", "all"));
    unsupported.put("target_modules", c -> c.put("target_modules", "all-linear"));
    unsupported.put("velora_config", c -> c.putObject("velora_config").put("k", 1));
    unsupported.put("something_new", c -> c.put("something_new", 3));
    for (var e : unsupported.entrySet()) {
      ObjectNode c = peft019();
      e.getValue().accept(c);
      String message = refused(c);
      assertTrue(message.contains(e.getKey()), e.getKey() + ": " + message);
      assertTrue(message.startsWith(dir.resolve(AdapterConfig.FILE).toString()), message);
    }
  }

  @Test
  void shouldAcceptUnsetNewKeysAndTrainingOnlyOnes() throws Exception {
    ObjectNode c = peft019();
    c.putNull("kasa_config"); // PEFT 0.20.1's newest key, left unset
    c.putNull("a_future_key");
    c.put("lora_dropout", 0.3);
    c.put("init_lora_weights", "gaussian");
    assertEquals(4, read(c).config().rank());
  }

  @Test
  void shouldNeedTheDocumentTypeFromTheFileOrTheCommandLine() throws Exception {
    Files.writeString(dir.resolve(AdapterConfig.FILE), JSON.writeValueAsString(peft019()));
    AdapterFormatException e =
        assertThrows(
            AdapterFormatException.class,
            () -> PeftAdapter.read(dir, SHA, SHAPES, AdapterConfig.Defaults.NONE));
    assertTrue(e.getMessage().contains("name its document type when publishing"), e.getMessage());
  }
}
