package dev.docstream.inference.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.FieldFormat;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.TinyModels;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.inference.worker.internal.GroupPlanner;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.ResultStatus;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExtractionEngineTest {
  @TempDir
  static Path dir;

  static byte[] png;

  @BeforeAll
  static void models() throws Exception {
    String sha = TinyModels.saveRandomBase(dir.resolve("base"), 5);
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      for (String t : List.of("A", "B")) {
        TinyModels.randomAdapter(e.block(), t, sha, 2, t.hashCode()).write(dir.resolve("adapters").resolve(t));
      }
    }
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      PeftAdapter a = TinyModels.randomAdapter(e.block(), "F", sha, 2, 7);
      AdapterConfig c = a.config();
      new PeftAdapter(new AdapterConfig(c.rank(), c.alpha(), c.targetModules(), c.baseModel(), "F", sha, 1,
          Map.of(DocumentField.DOCUMENT_NUMBER, new FieldFormat("DDDDD"))), a.modules())
          .write(dir.resolve("adapters").resolve("F"));
    }
    Files.createDirectories(dir.resolve("adapters/BROKEN"));
    Files.writeString(dir.resolve("adapters/BROKEN/adapter_config.json"), "{ not json");
    Files.write(dir.resolve("adapters/BROKEN/adapter_model.safetensors"), new byte[] {1, 2});
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB), "png", out);
    png = out.toByteArray();
  }

  private static ExtractionRequest request(String id, String type, byte[] image, Priority priority, long submitted) {
    return ExtractionRequest.newBuilder().setJobId(id).setTenantId("t").setDocumentType(type)
        .setImage(ByteBuffer.wrap(image)).setImageSha256("-")
        .setRequestedFields(List.of(DocumentField.DATE_OF_BIRTH, DocumentField.SURNAME))
        .setSubmittedAt(Instant.ofEpochMilli(submitted)).setAcceptedAt(Instant.ofEpochMilli(submitted))
        .setPriority(priority).build();
  }

  private static ExtractionEngine engine(Extractor e, ExtractionEngine.MissingAdapterPolicy policy, List<Long> swaps)
      throws Exception {
    Map<String, int[]> shapes = TinyModels.moduleShapes(e.block());
    return new ExtractionEngine(e, new DirectoryAdapterStore(dir.resolve("adapters"),
        ModelCheckpoint.checksum(dir.resolve("base")), shapes), 1 << 20, "base@test", "w1", 4, policy,
        new ExtractionEngine.Listener() {
          @Override
          public void processed(int requests, int groups, long s) {
            swaps.add(s);
          }
        }, Clock.fixed(Instant.ofEpochMilli(99), ZoneOffset.UTC));
  }

  @Test
  void shouldFailOnlyTheJobsAtFaultAndAnswerEveryJob() throws Exception {
    List<Long> swaps = new ArrayList<>();
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine = engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, swaps)) {
      List<ExtractionRequest> in = List.of(request("1", "A", png, Priority.LIVE, 1),
          request("2", "A", "nope".getBytes(), Priority.LIVE, 2), request("3", "NONE", png, Priority.LIVE, 3),
          request("4", "BROKEN", png, Priority.LIVE, 4), request("5", "B", png, Priority.LIVE, 5),
          request("6", "A", png, Priority.LIVE, 6));
      List<ExtractionResult> out = engine.process(in);
      assertEquals(6, out.size());
      Map<String, ExtractionResult> byId = new java.util.HashMap<>();
      out.forEach(r -> byId.put(r.getJobId(), r));
      assertEquals(ResultStatus.OK, byId.get("1").getStatus());
      assertEquals(List.of(DocumentField.DATE_OF_BIRTH, DocumentField.SURNAME),
          byId.get("1").getFields().stream().map(f -> f.getField()).toList(), "requested fields, in request order");
      assertEquals("A", byId.get("1").getAdapterId());
      assertEquals(1, byId.get("1").getAdapterVersion());
      assertEquals(ExtractionEngine.IMAGE_UNREADABLE, byId.get("2").getReason());
      assertEquals(ResultStatus.REJECTED, byId.get("3").getStatus());
      assertEquals(ExtractionEngine.NO_ADAPTER, byId.get("3").getReason());
      assertEquals(ExtractionEngine.ADAPTER_INVALID, byId.get("4").getReason());
      assertEquals(ResultStatus.OK, byId.get("6").getStatus());
      assertEquals(List.of(2L), swaps, "one merge per adapter group (A, B), none for the failed groups");
    }
  }

  @Test
  void shouldReadFieldsInTheFormatsTheAdapterCarries() throws Exception {
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine = engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, new ArrayList<>())) {
      ExtractionRequest job = ExtractionRequest.newBuilder(request("1", "F", png, Priority.LIVE, 1))
          .setRequestedFields(List.of(DocumentField.DOCUMENT_NUMBER, DocumentField.SURNAME)).build();
      ExtractionResult r = engine.process(List.of(job)).get(0);
      assertEquals(ResultStatus.OK, r.getStatus());
      // A random model reads noise; the adapter's format still holds for the document number.
      String number = r.getFields().get(0).getValue();
      assertTrue(number.matches("[0-9]{5}"), "document number read in the format DDDDD");
      assertFalse(r.getFields().get(1).getValue().matches("[0-9]{5}"), "the surname has no format");
    }
  }

  @Test
  void shouldRunTheBaseModelAndFlagItWhenConfiguredForMissingAdapters() throws Exception {
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine = engine(e, ExtractionEngine.MissingAdapterPolicy.BASE_MODEL, new ArrayList<>())) {
      ExtractionResult r = engine.process(List.of(request("1", "NONE", png, Priority.LIVE, 1))).get(0);
      assertEquals(ResultStatus.OK, r.getStatus());
      assertEquals(ExtractionEngine.BASE_MODEL_FALLBACK, r.getReason());
      assertNull(r.getAdapterId());
    }
  }

  @Test
  void shouldStartWithTheMergedAdapterThenLiveThenOldest() {
    List<ExtractionRequest> in = List.of(request("1", "OLD-REPLAY", png, Priority.REPLAY, 1),
        request("2", "NEW-LIVE", png, Priority.LIVE, 50), request("3", "OLD-LIVE", png, Priority.LIVE, 10),
        request("4", "MERGED", png, Priority.REPLAY, 99), request("5", "OLD-LIVE", png, Priority.LIVE, 60));
    List<String> order = GroupPlanner.plan(in, "MERGED").stream().map(GroupPlanner.Group::documentType).toList();
    assertEquals(List.of("MERGED", "OLD-LIVE", "NEW-LIVE", "OLD-REPLAY"), order);
    assertTrue(GroupPlanner.plan(in, "MERGED").get(1).requests().size() == 2, "a group keeps all its requests");
  }
}
