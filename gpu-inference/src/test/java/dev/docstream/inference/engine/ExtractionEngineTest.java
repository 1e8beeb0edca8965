package dev.docstream.inference.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.FieldFormat;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.TinyModels;
import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.engine.internal.GroupPlanner;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.errors.ResultReason;
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
  @TempDir static Path dir;

  static byte[] png;

  @BeforeAll
  static void models() throws Exception {
    String sha = TinyModels.saveRandomBase(dir.resolve("base"), 5);
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      for (String t : List.of("A", "B")) {
        TinyModels.randomAdapter(e.block(), t, sha, 2, t.hashCode())
            .write(dir.resolve("adapters").resolve(t));
      }
      // A's weights, with confidences calibrated at T = 0.5.
      PeftAdapter a = TinyModels.randomAdapter(e.block(), "COOL", sha, 2, "A".hashCode());
      new PeftAdapter(a.config().withConfidenceTemperature(0.5), a.modules())
          .write(dir.resolve("adapters").resolve("COOL"));
    }
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      PeftAdapter a = TinyModels.randomAdapter(e.block(), "F", sha, 2, 7);
      AdapterConfig c = a.config();
      new PeftAdapter(
              new AdapterConfig(
                  c.rank(),
                  c.alpha(),
                  c.targetModules(),
                  c.baseModel(),
                  "F",
                  sha,
                  1,
                  Map.of(DocumentField.DOCUMENT_NUMBER, new FieldFormat("DDDDD"))),
              a.modules())
          .write(dir.resolve("adapters").resolve("F"));
    }
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      // Valid files whose values are finite but overflow: at merge (3e38) or in the forward pass
      // (1e18).
      for (var t : Map.of("HUGE", 3e38f, "LOUD", 1e18f).entrySet()) {
        PeftAdapter a = TinyModels.randomAdapter(e.block(), t.getKey(), sha, 2, 3);
        Map<String, PeftAdapter.LoraPair> modules = new java.util.HashMap<>(a.modules());
        String first = modules.keySet().iterator().next();
        PeftAdapter.LoraPair pair = modules.get(first);
        float[] b = new float[pair.b().data().length];
        java.util.Arrays.fill(b, t.getValue());
        float[] aa = new float[pair.a().data().length];
        java.util.Arrays.fill(aa, t.getValue() > 1e30f ? 1f : t.getValue());
        modules.put(
            first,
            new PeftAdapter.LoraPair(
                new dev.docstream.adapters.Tensor(pair.a().shape(), aa),
                new dev.docstream.adapters.Tensor(pair.b().shape(), b)));
        new PeftAdapter(a.config(), modules).write(dir.resolve("adapters").resolve(t.getKey()));
      }
    }
    Files.createDirectories(dir.resolve("adapters/BROKEN"));
    Files.writeString(dir.resolve("adapters/BROKEN/adapter_config.json"), "{ not json");
    Files.write(dir.resolve("adapters/BROKEN/adapter_model.safetensors"), new byte[] {1, 2});
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB), "png", out);
    png = out.toByteArray();
  }

  private static ExtractionRequest request(
      String id, String type, byte[] image, Priority priority, long submitted) {
    return ExtractionRequest.newBuilder()
        .setJobId(id)
        .setTenantId("t")
        .setDocumentType(type)
        .setImage(ByteBuffer.wrap(image))
        .setImageSha256("-")
        .setRequestedFields(List.of(DocumentField.DATE_OF_BIRTH, DocumentField.SURNAME))
        .setSubmittedAt(Instant.ofEpochMilli(submitted))
        .setAcceptedAt(Instant.ofEpochMilli(submitted))
        .setPriority(priority)
        .build();
  }

  private static ExtractionEngine engine(
      Extractor e, ExtractionEngine.MissingAdapterPolicy policy, List<Long> swaps)
      throws Exception {
    return engine(e, policy, swaps, EngineOptions.AdapterMode.MERGED);
  }

  private static ExtractionEngine engine(
      Extractor e,
      ExtractionEngine.MissingAdapterPolicy policy,
      List<Long> swaps,
      EngineOptions.AdapterMode mode)
      throws Exception {
    return engine(e, policy, swaps, mode, 3);
  }

  private static ExtractionEngine engine(
      Extractor e,
      ExtractionEngine.MissingAdapterPolicy policy,
      List<Long> swaps,
      EngineOptions.AdapterMode mode,
      int minGroup)
      throws Exception {
    Map<String, int[]> shapes = TinyModels.moduleShapes(e.block());
    return new ExtractionEngine(
        e,
        new DirectoryAdapterStore(
            dir.resolve("adapters"), ModelCheckpoint.checksum(dir.resolve("base")), shapes),
        EngineOptions.defaults("base@test", "w1")
            .withCacheBytes(1 << 20)
            .withMicroBatch(4)
            .withPolicy(policy)
            .withAdapterMode(mode, minGroup),
        new ExtractionEngine.Listener() {
          @Override
          public void processed(int requests, int groups, long s) {
            swaps.add(s);
          }
        },
        Clock.fixed(Instant.ofEpochMilli(99), ZoneOffset.UTC));
  }

  /** A PNG whose header (signature and IHDR) is sound and whose body is garbage. */
  private static byte[] corruptBody(byte[] png) {
    byte[] corrupt = png.clone();
    for (int i = 40; i < corrupt.length; i++) {
      corrupt[i] = (byte) (i * 31);
    }
    return corrupt;
  }

  /**
   * The worker decodes and scales images on its decode thread ({@code decodeAhead}) and the model
   * reads the inputs so made: every result is the one the engine gives decoding inline.
   */
  @Test
  void shouldReadTheSameWhetherImagesAreDecodedAheadOrInline() throws Exception {
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, new ArrayList<>())) {
      List<ExtractionRequest> in = new ArrayList<>();
      for (int i = 0; i < 11; i++) {
        in.add(request("j" + i, i % 3 == 0 ? "B" : "A", png, Priority.LIVE, i));
      }
      in.add(request("bad", "A", corruptBody(png), Priority.LIVE, 11));
      Map<String, ExtractionResult> inline = new java.util.HashMap<>();
      engine.process(in).forEach(r -> inline.put(r.getJobId(), r));
      List<ExtractionResult> ahead = engine.process(in, engine.decodeAhead(in));
      assertEquals(in.size(), ahead.size());
      for (ExtractionResult r : ahead) {
        ExtractionResult same = inline.get(r.getJobId());
        assertEquals(same.getStatus(), r.getStatus(), r.getJobId());
        assertEquals(same.getReason(), r.getReason(), r.getJobId());
        assertEquals(same.getFields(), r.getFields(), r.getJobId());
      }
      assertEquals(ResultReason.IMAGE_UNREADABLE.name(), inline.get("bad").getReason());
    }
  }

  @Test
  void shouldFailOnlyTheJobsAtFaultAndAnswerEveryJob() throws Exception {
    List<Long> swaps = new ArrayList<>();
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine = engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, swaps)) {
      List<ExtractionRequest> in =
          List.of(
              request("1", "A", png, Priority.LIVE, 1),
              request("2", "A", "nope".getBytes(), Priority.LIVE, 2),
              request("3", "NONE", png, Priority.LIVE, 3),
              request("4", "BROKEN", png, Priority.LIVE, 4),
              request("5", "B", png, Priority.LIVE, 5),
              request("6", "A", png, Priority.LIVE, 6),
              request("7", "A", corruptBody(png), Priority.LIVE, 7));
      List<ExtractionResult> out = engine.process(in);
      assertEquals(7, out.size());
      Map<String, ExtractionResult> byId = new java.util.HashMap<>();
      out.forEach(r -> byId.put(r.getJobId(), r));
      assertEquals(ResultStatus.OK, byId.get("1").getStatus());
      assertEquals(
          List.of(DocumentField.DATE_OF_BIRTH, DocumentField.SURNAME),
          byId.get("1").getFields().stream().map(f -> f.getField()).toList(),
          "requested fields, in request order");
      assertEquals("A@1", byId.get("1").getAdapterId());
      assertEquals(1, byId.get("1").getAdapterVersion());
      assertEquals(ResultReason.IMAGE_UNREADABLE.name(), byId.get("2").getReason());
      assertEquals(
          ResultReason.IMAGE_UNREADABLE.name(),
          byId.get("7").getReason(),
          "a sound header passes intake; the body fails here");
      assertEquals(ResultStatus.REJECTED, byId.get("3").getStatus());
      assertEquals(ResultReason.NO_ADAPTER.name(), byId.get("3").getReason());
      assertEquals(ResultReason.ADAPTER_INVALID.name(), byId.get("4").getReason());
      assertEquals(ResultStatus.OK, byId.get("6").getStatus());
      assertEquals(
          List.of(2L), swaps, "one merge per adapter group (A, B), none for the failed groups");
    }
  }

  @Test
  void shouldReadTheSameInHybridModeWithFewerSwaps() throws Exception {
    List<ExtractionRequest> in =
        List.of(
            request("a1", "A", png, Priority.LIVE, 1),
            request("b1", "B", png, Priority.LIVE, 2),
            request("a2", "A", png, Priority.LIVE, 3),
            request("f1", "F", png, Priority.LIVE, 4),
            request("cool", "COOL", png, Priority.LIVE, 5),
            request("none", "NONE", png, Priority.LIVE, 6),
            request("broken", "BROKEN", png, Priority.LIVE, 7),
            request("b2", "B", "nope".getBytes(), Priority.LIVE, 8),
            request("a3", "A", png, Priority.LIVE, 9));
    Map<String, ExtractionResult> merged = new java.util.HashMap<>();
    Map<String, ExtractionResult> hybrid = new java.util.HashMap<>();
    List<Long> mergedSwaps = new ArrayList<>();
    List<Long> hybridSwaps = new ArrayList<>();
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, mergedSwaps)) {
      engine.process(in).forEach(r -> merged.put(r.getJobId(), r));
    }
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(
                e,
                ExtractionEngine.MissingAdapterPolicy.REJECT,
                hybridSwaps,
                EngineOptions.AdapterMode.HYBRID)) {
      engine.process(in).forEach(r -> hybrid.put(r.getJobId(), r));
    }
    assertEquals(merged.keySet(), hybrid.keySet(), "one result per job in both modes");
    for (ExtractionResult m : merged.values()) {
      ExtractionResult h = hybrid.get(m.getJobId());
      assertEquals(m.getStatus(), h.getStatus(), m.getJobId());
      assertEquals(m.getReason(), h.getReason(), m.getJobId());
      assertEquals(m.getAdapterId(), h.getAdapterId(), m.getJobId());
      for (int f = 0; f < m.getFields().size(); f++) {
        assertEquals(
            m.getFields().get(f).getValue(), h.getFields().get(f).getValue(), m.getJobId());
        assertEquals(
            m.getFields().get(f).getConfidence(),
            h.getFields().get(f).getConfidence(),
            1e-4,
            m.getJobId());
      }
    }
    assertEquals(3, hybrid.get("b1").getBatchSize(), "B, F and COOL ran in one mixed micro-batch");
    assertEquals(1, merged.get("b1").getBatchSize());
    assertEquals(List.of(4L), mergedSwaps, "merged: A, B, F, COOL");
    assertEquals(List.of(2L), hybridSwaps, "hybrid: A merged, then the base restored once");
  }

  @Test
  void shouldFailANonFiniteAdapterInAMixedBatchAloneAndRefuseItsLaterJobs() throws Exception {
    List<ExtractionRequest> in = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      in.add(request("loud" + i, "LOUD", png, Priority.LIVE, i));
    }
    in.add(request("b", "B", png, Priority.LIVE, 9));
    Map<String, ExtractionResult> byId = new java.util.HashMap<>();
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(
                e,
                ExtractionEngine.MissingAdapterPolicy.REJECT,
                new ArrayList<>(),
                EngineOptions.AdapterMode.HYBRID,
                8)) {
      engine.process(in).forEach(r -> byId.put(r.getJobId(), r));
      assertEquals(6, byId.size());
      for (int i = 0; i < 4; i++) {
        assertEquals(ResultReason.NON_FINITE_OUTPUT.name(), byId.get("loud" + i).getReason());
      }
      assertEquals(
          ResultReason.ADAPTER_INVALID.name(),
          byId.get("loud4").getReason(),
          "the second micro-batch does not run the refused adapter");
      assertEquals(ResultStatus.OK, byId.get("b").getStatus(), "the good job beside it");
      ExtractionResult later =
          engine.process(List.of(request("again", "LOUD", png, Priority.LIVE, 20))).get(0);
      assertEquals(ResultReason.ADAPTER_INVALID.name(), later.getReason(), "refused for a while");
    }
  }

  @Test
  void shouldReadFieldsInTheFormatsTheAdapterCarries() throws Exception {
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, new ArrayList<>())) {
      ExtractionRequest job =
          ExtractionRequest.newBuilder(request("1", "F", png, Priority.LIVE, 1))
              .setRequestedFields(List.of(DocumentField.DOCUMENT_NUMBER, DocumentField.SURNAME))
              .build();
      ExtractionResult r = engine.process(List.of(job)).get(0);
      assertEquals(ResultStatus.OK, r.getStatus());
      // A random model reads noise; the adapter's format still holds for the document number.
      String number = r.getFields().get(0).getValue();
      assertTrue(number.matches("[0-9]{5}"), "document number read in the format DDDDD");
      assertFalse(r.getFields().get(1).getValue().matches("[0-9]{5}"), "the surname has no format");
    }
  }

  @Test
  void shouldCalibrateConfidencesByTheTemperatureOfTheAdapterThatRanTheBatch() throws Exception {
    List<ExtractionResult> results;
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(e, ExtractionEngine.MissingAdapterPolicy.BASE_MODEL, new ArrayList<>())) {
      results =
          engine.process(
              List.of(
                  request("a", "A", png, Priority.LIVE, 1),
                  request("cool", "COOL", png, Priority.LIVE, 2),
                  request("base", "NONE", png, Priority.LIVE, 3)));
    }
    Map<String, ExtractionResult> byId = new java.util.HashMap<>();
    results.forEach(r -> byId.put(r.getJobId(), r));
    List<BufferedImage> image = List.of(ImageIO.read(new java.io.ByteArrayInputStream(png)));
    try (Extractor e = Extractor.load(dir.resolve("base"));
        var merge = new MergeEngine(e.block().linears(), MergeEngine.RestoreMode.EXACT)) {
      var base = e.extract(image, Map.of()).get(0);
      PeftAdapter cool =
          PeftAdapter.read(
              dir.resolve("adapters/COOL"),
              ModelCheckpoint.checksum(dir.resolve("base")),
              e.block().moduleShapes());
      try (LoadedAdapter loaded = new LoadedAdapter("COOL", cool, e.manager())) {
        merge.merge(loaded);
        var at1 = e.extract(image, Map.of(), 1).get(0);
        var atHalf = e.extract(image, Map.of(), 0.5).get(0);
        for (int i = 0; i < 2; i++) {
          DocumentField f = byId.get("cool").getFields().get(i).getField();
          assertEquals(
              byId.get("a").getFields().get(i).getValue(),
              byId.get("cool").getFields().get(i).getValue(),
              "the same weights read the same text");
          assertEquals(
              (float) at1.get(f).confidence(),
              byId.get("a").getFields().get(i).getConfidence(),
              1e-6f,
              "A has no temperature: " + f);
          assertEquals(
              (float) atHalf.get(f).confidence(),
              byId.get("cool").getFields().get(i).getConfidence(),
              1e-6f,
              "COOL's at T = 0.5: " + f);
          assertEquals(
              (float) base.get(f).confidence(),
              byId.get("base").getFields().get(i).getConfidence(),
              1e-6f,
              "the base model alone at T = 1: " + f);
        }
        assertTrue(
            byId.get("a").getFields().get(1).getConfidence()
                != byId.get("cool").getFields().get(1).getConfidence(),
            "the temperature changed the confidence");
      }
    }
  }

  @Test
  void shouldRunTheBaseModelAndFlagItWhenConfiguredForMissingAdapters() throws Exception {
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(e, ExtractionEngine.MissingAdapterPolicy.BASE_MODEL, new ArrayList<>())) {
      ExtractionResult r =
          engine.process(List.of(request("1", "NONE", png, Priority.LIVE, 1))).get(0);
      assertEquals(ResultStatus.OK, r.getStatus());
      assertEquals(ResultReason.BASE_MODEL_FALLBACK.name(), r.getReason());
      assertNull(r.getAdapterId());
    }
  }

  @Test
  void shouldStartWithTheMergedAdapterThenLiveThenOldest() {
    List<ExtractionRequest> in =
        List.of(
            request("1", "OLD-REPLAY", png, Priority.REPLAY, 1),
            request("2", "NEW-LIVE", png, Priority.LIVE, 50),
            request("3", "OLD-LIVE", png, Priority.LIVE, 10),
            request("4", "MERGED", png, Priority.REPLAY, 99),
            request("5", "OLD-LIVE", png, Priority.LIVE, 60));
    java.util.function.Function<ExtractionRequest, AdapterStore.Route> byType =
        r -> AdapterStore.Route.of(r.getDocumentType());
    List<String> order =
        GroupPlanner.plan(in, byType, "MERGED").stream()
            .map(GroupPlanner.Group::documentType)
            .toList();
    assertEquals(List.of("MERGED", "OLD-LIVE", "NEW-LIVE", "OLD-REPLAY"), order);
    assertTrue(
        GroupPlanner.plan(in, byType, "MERGED").get(1).requests().size() == 2,
        "a group keeps all its requests");
  }

  @Test
  void shouldFailTheJobsOfAnAdapterThatOverflowsAndNeverPublishANaN() throws Exception {
    List<Long> swaps = new ArrayList<>();
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine = engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, swaps)) {
      List<ExtractionResult> before =
          engine.process(List.of(request("a1", "A", png, Priority.LIVE, 1)));
      List<ExtractionRequest> in = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        in.add(request("h" + i, "HUGE", png, Priority.LIVE, 2));
        in.add(request("l" + i, "LOUD", png, Priority.LIVE, 3));
      }
      List<ExtractionResult> out = new ArrayList<>(engine.process(in));
      out.addAll(engine.process(in)); // the second time the adapters are known to be invalid
      assertEquals(24, out.size());
      for (ExtractionResult r : out) {
        assertEquals(ResultStatus.FAILED, r.getStatus(), r.getJobId());
        assertTrue(
            List.of(ResultReason.ADAPTER_INVALID.name(), ResultReason.NON_FINITE_OUTPUT.name())
                .contains(r.getReason()),
            r.getJobId() + ": " + r.getReason());
        r.getFields()
            .forEach(f -> assertTrue(Float.isFinite(f.getConfidence()), "no NaN reaches a result"));
      }
      assertTrue(
          out.stream()
              .allMatch(
                  r ->
                      !r.getJobId().startsWith("h")
                          || r.getReason().equals(ResultReason.ADAPTER_INVALID.name())),
          "HUGE overflows at merge");
      int secondTimeSwaps = swaps.get(swaps.size() - 1).intValue();
      assertEquals(0, secondTimeSwaps, "an adapter marked invalid is not merged again");
      // The base weights are back: adapter A reads exactly as before.
      List<ExtractionResult> after =
          engine.process(List.of(request("a1", "A", png, Priority.LIVE, 1)));
      assertEquals(before.get(0).getFields(), after.get(0).getFields());
    }
  }

  @Test
  void shouldFailADecompressionBombWithoutDecodingIt() throws Exception {
    byte[] bomb = png.clone();
    java.nio.ByteBuffer.wrap(bomb, 16, 8).putInt(30_000).putInt(30_000);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bomb, 12, 17);
    java.nio.ByteBuffer.wrap(bomb, 29, 4).putInt((int) crc.getValue());
    try (Extractor e = Extractor.load(dir.resolve("base"));
        ExtractionEngine engine =
            engine(e, ExtractionEngine.MissingAdapterPolicy.REJECT, new ArrayList<>())) {
      List<ExtractionResult> out =
          engine.process(
              List.of(
                  request("bomb", "A", bomb, Priority.LIVE, 1),
                  request("ok", "A", png, Priority.LIVE, 2)));
      Map<String, ExtractionResult> byId = new java.util.HashMap<>();
      out.forEach(r -> byId.put(r.getJobId(), r));
      assertEquals(ResultReason.IMAGE_TOO_LARGE.name(), byId.get("bomb").getReason());
      assertEquals(ResultStatus.OK, byId.get("ok").getStatus());
    }
  }

  @Test
  void shouldFailOnlyTheJobsOfAGroupThatThrowsAndServeTheRest() throws Exception {
    try (Extractor e = Extractor.load(dir.resolve("base"))) {
      DirectoryAdapterStore disk =
          new DirectoryAdapterStore(
              dir.resolve("adapters"),
              ModelCheckpoint.checksum(dir.resolve("base")),
              TinyModels.moduleShapes(e.block()));
      dev.docstream.inference.adapter.AdapterStore flaky =
          new dev.docstream.inference.adapter.AdapterStore() {
            @Override
            public Route route(String documentType, String jobId) {
              return Route.of(documentType);
            }

            @Override
            public java.util.Optional<PeftAdapter> load(String type)
                throws dev.docstream.adapters.AdapterFormatException {
              if (type.equals("FLAKY")) {
                throw new java.io.UncheckedIOException(new java.io.IOException("disk read error"));
              }
              return disk.load(type);
            }

            @Override
            public java.util.Set<String> documentTypes() {
              return disk.documentTypes();
            }
          };
      try (ExtractionEngine engine =
          new ExtractionEngine(
              e,
              flaky,
              EngineOptions.defaults("base@test", "w1").withMicroBatch(4),
              new ExtractionEngine.Listener() {},
              Clock.systemUTC())) {
        List<ExtractionResult> out =
            engine.process(
                List.of(
                    request("f1", "FLAKY", png, Priority.LIVE, 1),
                    request("f2", "FLAKY", png, Priority.LIVE, 2)));
        assertEquals(2, out.size());
        assertTrue(
            out.stream()
                .allMatch(
                    r ->
                        r.getStatus() == ResultStatus.FAILED
                            && r.getReason().equals(ResultReason.PROCESSING_FAILED.name())),
            out.toString());
        out =
            engine.process(
                List.of(
                    request("a1", "A", png, Priority.LIVE, 1),
                    request("f3", "FLAKY", png, Priority.LIVE, 2),
                    request("a2", "A", png, Priority.LIVE, 3)));
        Map<String, ExtractionResult> byId = new java.util.HashMap<>();
        out.forEach(r -> byId.put(r.getJobId(), r));
        assertEquals(ResultStatus.OK, byId.get("a1").getStatus());
        assertEquals(ResultStatus.OK, byId.get("a2").getStatus());
        assertEquals(ResultStatus.FAILED, byId.get("f3").getStatus());
      }
    }
  }
}
