package dev.docstream.app.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.Tensor;
import dev.docstream.embedded.EmbeddedKafkaBroker;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docstream adapters publish} refuses each bad adapter of a catalogue with one line naming
 * the file and the problem, publishes nothing for it, and publishes a good one; the lifecycle
 * commands refuse bad requests the same way. A real broker; no pipeline.
 */
class AdaptersPublishIT {
  static final Path MODELS = Path.of(System.getProperty("docstream.models", "../models"));
  static final String T = "GBR-PASSPORT-2000";
  static final String SCOPE = "adapters-publish-it";
  private static final ObjectMapper JSON = new ObjectMapper();

  static EmbeddedKafkaBroker broker;
  @TempDir static Path dir;

  @BeforeAll
  static void start() {
    broker = EmbeddedKafkaBroker.ephemeral().start();
    EmbeddedKafkaBroker.createTopics(
        broker.bootstrapServers(),
        Map.of(Topics.ADAPTERS_MANIFESTS.name(), 1),
        Map.of(Topics.ADAPTERS_MANIFESTS.name(), Map.of("cleanup.policy", "compact")));
    InMemorySchemaRegistry.scope(SCOPE);
  }

  @AfterAll
  static void stop() {
    InMemorySchemaRegistry.dropScope(SCOPE);
    broker.close();
  }

  static AdaptersCli.Run docstream(String... args) {
    return new AdaptersCli(
            broker.bootstrapServers(), "mock://" + SCOPE, dir.resolve("blobs"), MODELS)
        .run(args);
  }

  /** A copy of a shipped adapter folder. */
  static Path copy(String type, String name) throws Exception {
    Path to = Files.createDirectories(dir.resolve(name));
    Path from = MODELS.resolve("adapters").resolve(type);
    Files.copy(from.resolve(AdapterConfig.FILE), to.resolve(AdapterConfig.FILE));
    Files.copy(from.resolve(PeftAdapter.WEIGHTS), to.resolve(PeftAdapter.WEIGHTS));
    return to;
  }

  static void editConfig(Path folder, java.util.function.Consumer<ObjectNode> edit)
      throws Exception {
    ObjectNode n = (ObjectNode) JSON.readTree(folder.resolve(AdapterConfig.FILE).toFile());
    edit.accept(n);
    Files.writeString(folder.resolve(AdapterConfig.FILE), JSON.writeValueAsString(n));
  }

  /** One bad adapter: its folder, extra arguments, and what the error line must contain. */
  record Bad(Path folder, List<String> args, String file, String problem) {}

  @Test
  void shouldRefuseEveryBadAdapterOfTheCatalogueWithOneLine() throws Exception {
    AdaptersCli.Run first = docstream("publish", MODELS.resolve("adapters").resolve(T).toString());
    assertEquals(0, first.code(), first.err());
    assertEquals(0, docstream("promote", T + "@1").code());

    Map<String, Bad> catalogue = new LinkedHashMap<>();
    Path truncated = copy(T, "truncated");
    byte[] w = Files.readAllBytes(truncated.resolve(PeftAdapter.WEIGHTS));
    Files.write(truncated.resolve(PeftAdapter.WEIGHTS), java.util.Arrays.copyOf(w, w.length / 2));
    catalogue.put(
        "truncated safetensors",
        new Bad(truncated, List.of(), PeftAdapter.WEIGHTS, "truncated: tensor "));

    Path nan = dir.resolve("nan");
    Path base = MODELS.resolve("base");
    String sha = ModelCheckpoint.checksum(base);
    Map<String, int[]> shapes;
    try (Extractor e = Extractor.load(base)) {
      shapes = e.block().moduleShapes();
    }
    PeftAdapter shipped = PeftAdapter.read(MODELS.resolve("adapters").resolve(T), sha, shapes);
    Map<String, PeftAdapter.LoraPair> poisoned = new HashMap<>(shipped.modules());
    PeftAdapter.LoraPair head = poisoned.get("decoder.head");
    float[] b = head.b().data().clone();
    b[7] = Float.NaN;
    poisoned.put(
        "decoder.head", new PeftAdapter.LoraPair(head.a(), new Tensor(head.b().shape(), b)));
    new PeftAdapter(shipped.config(), poisoned).write(nan);
    catalogue.put(
        "NaN",
        new Bad(
            nan,
            List.of(),
            PeftAdapter.WEIGHTS,
            "decoder.head.lora_B holds a non-finite value (NaN)"));

    Path shapesWrong = copy(T, "shapes");
    editConfig(shapesWrong, c -> c.put("r", 16));
    catalogue.put(
        "wrong shapes", new Bad(shapesWrong, List.of(), PeftAdapter.WEIGHTS, "expected [16, "));

    Path otherBase = copy(T, "other-base");
    editConfig(otherBase, c -> c.put("docstream_base_model_sha256", "0".repeat(64)));
    catalogue.put(
        "wrong base checksum",
        new Bad(
            otherBase, List.of(), AdapterConfig.FILE, "was trained on base model 000000000000"));

    Path notJson = copy(T, "not-json");
    Files.writeString(notJson.resolve(AdapterConfig.FILE), "{\"peft_type\": \"LORA\", r: ");
    catalogue.put(
        "invalid JSON", new Bad(notJson, List.of(), AdapterConfig.FILE, "not valid JSON"));

    Path dora =
        PeftConfigs.peft019(
            MODELS.resolve("adapters").resolve(T),
            dir.resolve("dora"),
            c -> c.put("use_dora", true));
    catalogue.put(
        "use_dora",
        new Bad(
            dora,
            List.of("--document-type", T),
            AdapterConfig.FILE,
            "use_dora = true is not supported"));

    Path tooBig = copy(T, "too-big");
    catalogue.put(
        "over the size limit",
        new Bad(
            tooBig,
            List.of("--max-bytes", "1000"),
            PeftAdapter.WEIGHTS,
            "bytes, over the limit of 1000 bytes"));

    // Another type's adapter as this type's: valid files, but it reads this type badly.
    Path worse =
        PeftConfigs.peft019(
            MODELS.resolve("adapters").resolve("NLD-ID-CARD-2024"), dir.resolve("worse"), c -> {});
    catalogue.put(
        "fails the evaluation gate",
        new Bad(
            worse, List.of("--document-type", T), T + "@2", "below the promoted " + T + "@1's"));

    for (var e : catalogue.entrySet()) {
      Bad bad = e.getValue();
      List<String> args = new ArrayList<>(List.of("publish", bad.folder().toString()));
      args.addAll(bad.args());
      AdaptersCli.Run r = docstream(args.toArray(String[]::new));
      String line = r.err().strip();
      assertEquals(1, r.code(), e.getKey() + ": " + r.err() + r.out());
      assertEquals(1, line.lines().count(), e.getKey() + ": one line: " + line);
      assertTrue(line.startsWith("error: "), e.getKey() + ": " + line);
      assertTrue(line.contains(bad.file()), e.getKey() + ": names " + bad.file() + ": " + line);
      assertTrue(
          line.contains(bad.problem()), e.getKey() + ": says " + bad.problem() + ": " + line);
      System.out.println(e.getKey() + " -> " + line);
      if (e.getKey().equals("fails the evaluation gate")) {
        assertTrue(line.contains("below the promoted " + T + "@1's 0.9"), line);
      }
    }
    String list = docstream("list").out();
    assertTrue(list.contains(T + " ") && list.contains("@1"), list);
    assertTrue(
        docstream("show", T).out().contains("@1 ") && !docstream("show", T).out().contains("@2 "),
        "nothing was published by a refused adapter");

    AdaptersCli.Run forced =
        docstream("publish", worse.toString(), "--document-type", T, "--force");
    assertEquals(0, forced.code(), forced.err());
    assertTrue(forced.out().startsWith("published " + T + "@2 (candidate)"), forced.out());

    Map<String, String[]> badRequests = new LinkedHashMap<>();
    badRequests.put("unknown version " + T + "@9", new String[] {"promote", T + "@9"});
    badRequests.put("no earlier promoted version", new String[] {"rollback", T});
    badRequests.put("is not an adapter id", new String[] {"canary", T, "--share", "0.1"});
    badRequests.put(
        "--share must be within 0..1", new String[] {"canary", T + "@2", "--share", "2"});
    badRequests.put(
        "no adapter was published for XXX-NONE-2000", new String[] {"show", "XXX-NONE-2000"});
    for (var e : badRequests.entrySet()) {
      AdaptersCli.Run r = docstream(e.getValue());
      assertEquals(1, r.code(), e.getKey());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().contains(e.getKey()), e.getKey() + ": " + r.err());
    }
  }
}
