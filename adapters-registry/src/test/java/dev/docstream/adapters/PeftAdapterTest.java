package dev.docstream.adapters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.testing.TestAdapters;
import dev.docstream.schemas.DocumentField;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
  private static final String SHA = "ab".repeat(32);
  private static final Map<String, int[]> SHAPES =
      Map.of(
          "encoder.layers.0.attn.qkv", new int[] {48, 16},
          "decoder.head", new int[] {10, 16});

  @TempDir Path dir;

  private PeftAdapter adapter;

  @BeforeEach
  void write() throws Exception {
    Random rnd = new Random(1);
    adapter =
        new PeftAdapter(
            new AdapterConfig(
                4,
                8f,
                List.of("encoder.layers.0.attn.qkv", "decoder.head"),
                "docstream-extractor",
                "GBR-PASSPORT-2015",
                SHA,
                1,
                Map.of(DocumentField.DOCUMENT_NUMBER, new FieldFormat("LLDDDDDDD"))),
            Map.of(
                "encoder.layers.0.attn.qkv",
                TestAdapters.pair(rnd, 4, 48, 16),
                "decoder.head",
                TestAdapters.pair(rnd, 4, 10, 16)));
    adapter.write(dir);
  }

  private AdapterFormatException rejected() {
    return assertThrows(AdapterFormatException.class, () -> PeftAdapter.read(dir, SHA, SHAPES));
  }

  @Test
  void shouldRoundTripAdapterFolder() throws Exception {
    PeftAdapter read = PeftAdapter.read(dir, SHA, SHAPES);
    assertEquals(adapter, read);
    assertEquals(4L * (4 * 16 + 48 * 4 + 4 * 16 + 10 * 4), read.sizeBytes());
  }

  @Test
  void shouldWritePeftKeyNamesAndConfig() throws Exception {
    var tensors = Safetensors.read(dir.resolve(PeftAdapter.WEIGHTS));
    assertTrue(
        tensors.containsKey("base_model.model.encoder.layers.0.attn.qkv.lora_A.weight"),
        tensors.keySet().toString());
    assertTrue(tensors.containsKey("base_model.model.decoder.head.lora_B.weight"));
    var json = new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    assertEquals("LORA", json.get("peft_type").asText());
    assertEquals(4, json.get("r").asInt());
    assertEquals(8.0, json.get("lora_alpha").asDouble());
    assertEquals("docstream-extractor", json.get("base_model_name_or_path").asText());
  }

  @Test
  void shouldRoundTripFieldFormatsAndReadAdaptersWithout() throws Exception {
    var json = (ObjectNode) new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    assertEquals("LLDDDDDDD", json.get("docstream_field_formats").get("DOCUMENT_NUMBER").asText());
    assertEquals(
        Map.of(DocumentField.DOCUMENT_NUMBER, new FieldFormat("LLDDDDDDD")),
        PeftAdapter.read(dir, SHA, SHAPES).config().fieldFormats());
    json.remove("docstream_field_formats");
    Files.writeString(dir.resolve(AdapterConfig.FILE), json.toString());
    assertEquals(Map.of(), PeftAdapter.read(dir, SHA, SHAPES).config().fieldFormats());
  }

  @Test
  void shouldRejectUnknownFieldOrBadFormatInFieldFormats() throws Exception {
    var json = (ObjectNode) new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    json.putObject("docstream_field_formats").put("PASSPORT_NUMBER", "LLDDDDDDD");
    Files.writeString(dir.resolve(AdapterConfig.FILE), json.toString());
    AdapterFormatException e = rejected();
    assertTrue(e.getMessage().contains("unknown field 'PASSPORT_NUMBER'"), e.getMessage());

    json.putObject("docstream_field_formats").put("DOCUMENT_NUMBER", "LL-DDDD");
    Files.writeString(dir.resolve(AdapterConfig.FILE), json.toString());
    e = rejected();
    assertTrue(
        e.getMessage().contains("docstream_field_formats.DOCUMENT_NUMBER")
            && e.getMessage().contains("'LL-DDDD'"),
        e.getMessage());
  }

  @Test
  void shouldRoundTripTheConfidenceTemperatureAndReadOneWithoutIt() throws Exception {
    assertEquals(1.0, PeftAdapter.read(dir, SHA, SHAPES).config().confidenceTemperature());
    var json = (ObjectNode) new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    assertTrue(!json.has(AdapterConfig.TEMPERATURE_KEY), "1 is written as no key at all");

    PeftAdapter calibrated =
        new PeftAdapter(adapter.config().withConfidenceTemperature(0.42), adapter.modules());
    calibrated.write(dir);
    json = (ObjectNode) new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    assertEquals(0.42, json.get(AdapterConfig.TEMPERATURE_KEY).asDouble());
    assertEquals(calibrated, PeftAdapter.read(dir, SHA, SHAPES));
  }

  @Test
  void shouldRejectAConfidenceTemperatureOutOfRangeNamingTheKey() throws Exception {
    var json = (ObjectNode) new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    for (String bad : new String[] {"0", "-1", "0.01", "25", "1e309", "\"0.5\"", "true"}) {
      json.set(AdapterConfig.TEMPERATURE_KEY, new ObjectMapper().readTree(bad));
      Files.writeString(dir.resolve(AdapterConfig.FILE), json.toString());
      AdapterFormatException e = rejected();
      assertTrue(
          e.getMessage().contains("docstream_confidence_temperature must be"), bad + ": " + e);
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> adapter.config().withConfidenceTemperature(Double.NaN));
  }

  @Test
  void shouldRejectADocstreamKeyItDoesNotWrite() throws Exception {
    var json = (ObjectNode) new ObjectMapper().readTree(dir.resolve(AdapterConfig.FILE).toFile());
    json.put("docstream_confidence_temprature", 0.5);
    Files.writeString(dir.resolve(AdapterConfig.FILE), json.toString());
    AdapterFormatException e = rejected();
    assertTrue(
        e.getMessage().contains("docstream_confidence_temprature is not a key DocStream writes"),
        e.getMessage());
  }

  @Test
  void shouldRewriteTheConfidenceTemperatureInPlaceLeavingEveryOtherKeyAsItWas() throws Exception {
    Path file = dir.resolve(AdapterConfig.FILE);
    String before = Files.readString(file);
    AdapterConfig.rewriteConfidenceTemperature(dir, 0.5);
    String once = Files.readString(file);
    assertTrue(once.startsWith(before.substring(0, before.lastIndexOf('}')).stripTrailing()), once);
    assertTrue(once.endsWith(",\n  \"docstream_confidence_temperature\" : 0.5\n}\n"), once);
    AdapterConfig.rewriteConfidenceTemperature(dir, 0.25); // replaces, in its place
    assertEquals(once.replace("0.5\n}", "0.25\n}"), Files.readString(file));
    assertEquals(0.25, PeftAdapter.read(dir, SHA, SHAPES).config().confidenceTemperature());
    assertThrows(
        IllegalArgumentException.class, () -> AdapterConfig.rewriteConfidenceTemperature(dir, 0));
  }

  @Test
  void shouldRejectConfigThatIsNotJson() throws Exception {
    Files.writeString(dir.resolve(AdapterConfig.FILE), "{\"peft_type\": \"LORA\", r: ");
    AdapterFormatException e = rejected();
    assertEquals(dir.resolve(AdapterConfig.FILE), e.file());
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
  }

  @Test
  void shouldRejectTruncatedSafetensors() throws Exception {
    Path file = dir.resolve(PeftAdapter.WEIGHTS);
    byte[] bytes = Files.readAllBytes(file);
    for (int cut : new int[] {4, 20, bytes.length - 7}) {
      Files.write(file, Arrays.copyOf(bytes, cut));
      AdapterFormatException e = rejected();
      assertEquals(file, e.file());
      assertTrue(e.getMessage().contains("truncated"), "cut " + cut + ": " + e.getMessage());
    }
  }

  @Test
  void shouldRejectWrongShapes() throws Exception {
    Map<String, int[]> otherModel =
        Map.of("encoder.layers.0.attn.qkv", new int[] {48, 32}, "decoder.head", new int[] {10, 16});
    AdapterFormatException e =
        assertThrows(AdapterFormatException.class, () -> PeftAdapter.read(dir, SHA, otherModel));
    assertTrue(
        e.getMessage().contains("encoder.layers.0.attn.qkv") && e.getMessage().contains("expected"),
        e.getMessage());
  }

  @Test
  void shouldRejectNanValues() throws Exception {
    Path file = dir.resolve(PeftAdapter.WEIGHTS);
    byte[] bytes = Files.readAllBytes(file);
    long header = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    ByteBuffer.wrap(bytes, (int) (8 + header + 12), 4)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(Float.NaN);
    Files.write(file, bytes);
    AdapterFormatException e = rejected();
    assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
  }

  @Test
  void shouldRejectAdapterTrainedOnAnotherBaseModel() {
    AdapterFormatException e =
        assertThrows(
            AdapterFormatException.class, () -> PeftAdapter.read(dir, "cd".repeat(32), SHAPES));
    assertEquals(dir.resolve(AdapterConfig.FILE), e.file());
    assertTrue(e.getMessage().contains("base model"), e.getMessage());
  }

  @Test
  void shouldRejectMissingTensorAndUnknownModule() throws Exception {
    Map<String, int[]> fewer = Map.of("decoder.head", new int[] {10, 16});
    AdapterFormatException e =
        assertThrows(AdapterFormatException.class, () -> PeftAdapter.read(dir, SHA, fewer));
    assertTrue(e.getMessage().contains("not in the base model"), e.getMessage());
    var tensors = new java.util.HashMap<>(Safetensors.read(dir.resolve(PeftAdapter.WEIGHTS)));
    tensors.remove("base_model.model.decoder.head.lora_B.weight");
    Safetensors.write(dir.resolve(PeftAdapter.WEIGHTS), tensors, Map.of());
    assertTrue(
        rejected().getMessage().contains("missing lora_A or lora_B for module decoder.head"));
  }

  @Test
  void shouldRejectConfigWithoutLoraType() throws Exception {
    Files.writeString(dir.resolve(AdapterConfig.FILE), "{\"peft_type\": \"PREFIX_TUNING\"}");
    assertTrue(rejected().getMessage().contains("expected LORA"));
  }
}
