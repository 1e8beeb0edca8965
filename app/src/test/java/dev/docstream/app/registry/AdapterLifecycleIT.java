package dev.docstream.app.registry;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.registry.CanarySplit;
import dev.docstream.app.EmbeddedStack;
import dev.docstream.app.LoadGenerator;
import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adapter lifecycle on a running pipeline (a real broker, intake and a worker, the shipped
 * model), driven through the {@code docstream adapters} commands as an operator runs them: a hot
 * update under load and its rollback, a 10 % canary, a corrupted blob, a document type published
 * and then retired while intake runs. No restart anywhere; every job gets exactly one outcome.
 */
class AdapterLifecycleIT {
  static final Path MODELS = Path.of(System.getProperty("docstream.models", "../models"));
  static final String T = "GBR-PASSPORT-2000";
  static final String NEW = "AUT-PASSPORT-2010";
  static final String SCOPE = "adapter-lifecycle-it";

  @TempDir Path dir;

  private EmbeddedStack stack;
  private KafkaProducer<String, byte[]> producer;
  private AvroSerde<VerificationJob> jobSerde;

  @Test
  void shouldFollowTheRegistryWithoutARestartAndNeverLoseOrDuplicateAJob() throws Exception {
    stack =
        EmbeddedStack.start(
            new EmbeddedStack.Options(
                dir.resolve("stack"),
                true,
                1,
                8,
                MODELS.resolve("base"),
                MODELS.resolve("adapters"),
                SCOPE,
                32,
                0));
    SchemaRegistry registry = stack.registry();
    jobSerde = Topics.VERIFICATION_JOBS.valueSerde(registry);
    producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
            new StringSerializer(),
            new ByteArraySerializer());
    List<LoadGenerator.Job> templates = LoadGenerator.generate(List.of(T), 200, 0, 0, 1);
    try (Outputs out = new Outputs(stack.bootstrapServers(), registry)) {
      // 1. Hot update under load: v2 (the same weights, published from a config as Python PEFT
      // 0.19 writes it) is promoted, then rolled back, while jobs flow at a steady rate.
      Path peft =
          PeftConfigs.peft019(
              MODELS.resolve("adapters").resolve(T),
              dir.resolve("peft-v2"),
              c -> c.putObject("docstream_field_formats").put("DOCUMENT_NUMBER", "DDDDDDD"));
      Set<String> steady = new LinkedHashSet<>();
      Thread flow = steadyFlow(templates, "steady-", 25, steady);
      flow.start();
      String published = adapters("publish", peft.toString(), "--document-type", T);
      assertTrue(published.startsWith("published " + T + "@2 (candidate)"), published);
      adapters("promote", T + "@2");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> out.resultsOf(steady).stream().anyMatch(r -> r.getAdapterVersion() == 2));
      assertTrue(adapters("rollback", T).startsWith("rolled back " + T + " to " + T + "@1"));
      int atRollback;
      synchronized (steady) {
        atRollback = steady.size();
      }
      await() // at least 20 results of jobs sent after the rollback
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  out.results().stream()
                          .map(ExtractionResult::getJobId)
                          .filter(id -> id.startsWith("steady-"))
                          .filter(id -> Integer.parseInt(id.substring(7)) >= atRollback)
                          .count()
                      >= 20);
      flow.interrupt();
      flow.join();
      Map<String, ExtractionResult> first = exactlyOne(out, steady);
      assertTrue(first.values().stream().allMatch(r -> r.getStatus() == ResultStatus.OK));
      for (List<ExtractionResult> partition : out.resultsByPartition().values()) {
        String versions =
            partition.stream()
                .filter(r -> steady.contains(r.getJobId()))
                .map(r -> String.valueOf(r.getAdapterVersion()))
                .collect(Collectors.joining());
        assertTrue(
            versions.matches("1*2*1*"),
            "one switch to v2 and one back, per partition: " + versions);
      }
      assertTrue(first.values().stream().anyMatch(r -> r.getAdapterId().equals(T + "@2")));

      // 2. A 10 % canary: exactly the jobs the hash of their id picks, a binomial share of them.
      adapters("canary", T + "@2", "--share", "0.1");
      awaitRouting(templates, "probe-canary-", id -> CanarySplit.toCanary(id, T + "@2", 0.1), out);
      Set<String> canaryRun = send(templates, "canary-", 600);
      Map<String, ExtractionResult> canary = exactlyOne(out, canaryRun);
      int toCanary = 0;
      for (ExtractionResult r : canary.values()) {
        boolean expected = CanarySplit.toCanary(r.getJobId(), T + "@2", 0.1);
        assertEquals(expected ? 2 : 1, r.getAdapterVersion(), r.getJobId());
        toCanary += expected ? 1 : 0;
      }
      double sd = Math.sqrt(600 * 0.1 * 0.9);
      assertTrue(Math.abs(toCanary - 60) < 4 * sd, toCanary + " of 600 on the canary");

      // 3. A blob corrupted in the store after publishing: refused, the last good version serves.
      adapters("canary", T + "@2", "--share", "0");
      String v3 =
          adapters("publish", MODELS.resolve("adapters").resolve(T).toString(), "--eval-docs", "0");
      String blob = v3.replaceAll(".* blob sha256:([0-9a-f]{64}).*", "$1").trim();
      Path weights = stack.blobStore().root().resolve(blob).resolve(PeftAdapter.WEIGHTS);
      byte[] bytes = Files.readAllBytes(weights);
      bytes[bytes.length - 10] ^= 0x5a;
      Files.write(weights, bytes);
      adapters("promote", T + "@3");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> validationFailures() >= 1); // refused in the background
      Set<String> afterCorruption = send(templates, "corrupt-", 200);
      Map<String, ExtractionResult> kept = exactlyOne(out, afterCorruption);
      assertTrue(
          kept.values().stream()
              .allMatch(r -> r.getStatus() == ResultStatus.OK && r.getAdapterVersion() == 1),
          "every job served by the last good version");
      assertEquals(1.0, validationFailures());

      // 4. A document type published while intake runs is accepted without a restart ...
      List<LoadGenerator.Job> fresh = LoadGenerator.generate(List.of(NEW), 40, 0, 0, 2);
      Set<String> early = send(fresh, "early-", 10);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> out.deadLettersOf(early).size() == early.size());
      assertTrue(
          out.deadLettersOf(early).stream()
              .allMatch(d -> d.getReason().equals("UNKNOWN_DOC_TYPE")));
      Path newType =
          PeftConfigs.peft019(MODELS.resolve("adapters").resolve(T), dir.resolve("new"), c -> {});
      adapters("publish", newType.toString(), "--document-type", NEW);
      adapters("promote", NEW + "@1");
      awaitIntake(fresh, "probe-new-", out, false);
      Set<String> accepted = send(fresh, "new-", 30);
      Map<String, ExtractionResult> served = exactlyOne(out, accepted);
      assertTrue(served.values().stream().allMatch(r -> r.getAdapterId().equals(NEW + "@1")));

      // 5. ... and dead-lettered as retired once its adapter is retired.
      adapters("retire", NEW + "@1");
      awaitIntake(fresh, "probe-retired-", out, true);
      Set<String> late = send(fresh, "late-", 10);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> out.deadLettersOf(late).size() == late.size());
      assertTrue(
          out.deadLettersOf(late).stream()
              .allMatch(d -> d.getReason().equals("DOCUMENT_TYPE_RETIRED")));
      assertTrue(out.resultsOf(late).isEmpty());

      String show = adapters("show", T);
      for (String change :
          List.of(
              "PUBLISHED   " + T + "@2",
              "PROMOTED    " + T + "@2",
              "ROLLED_BACK " + T + "@1",
              "CANARIED    " + T + "@2",
              "PROMOTED    " + T + "@3")) {
        assertTrue(show.contains(change), change + " in\n" + show);
      }
      assertTrue(adapters("list").contains(NEW + " "), "the new type is listed");

      // The registry's read API for tools, and the per-adapter metrics.
      int port = stack.serveAdaptersApi(0);
      var http = java.net.http.HttpClient.newHttpClient();
      var type =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create("http://127.0.0.1:" + port + "/adapters/" + T))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, type.statusCode());
      var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(type.body());
      assertEquals(T + "@3", json.get("promoted").asText());
      assertEquals(3, json.get("versions").size());
      String v1Blob = json.get("versions").get(0).get("blob_uri").asText();
      var config =
          http.send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(
                          "http://127.0.0.1:" + port + "/blobs/" + v1Blob + "/adapter_config.json"))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, config.statusCode());
      assertEquals(
          json.get("versions").get(0).get("config_sha256").asText(),
          java.util.HexFormat.of()
              .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(config.body())));
      String scrape = stack.workers().get(0).metrics().registry().scrape();
      for (String metric :
          List.of(
              "docstream_worker_adapter_loads_total{type=\"" + T + "\"",
              "docstream_worker_adapter_load_time_seconds_count{type=\"" + T + "\"",
              "docstream_worker_adapter_validation_failures_total{type=\"" + T + "\"",
              "docstream_worker_adapter_resident{type=\"" + T + "\",where=\"cache\"",
              "docstream_worker_adapter_resident_bytes{type=\"" + T + "\"")) {
        assertTrue(scrape.contains(metric), metric + " in the worker's scrape");
      }
      assertTrue(
          scrape
              .lines()
              .anyMatch(
                  l ->
                      l.startsWith("docstream_worker_adapter_resident_bytes{type=\"" + T)
                          && !l.endsWith(" 0.0")),
          "the type's adapters are resident");

      // Nothing arrived twice since, in any phase.
      for (Set<String> ids : List.of(steady, canaryRun, afterCorruption, accepted)) {
        exactlyOne(out, ids);
      }
    } finally {
      producer.close();
      stack.close();
    }
  }

  /** Runs {@code docstream adapters ...} against the stack; returns its output; must succeed. */
  private String adapters(String... args) {
    AdaptersCli.Run r =
        new AdaptersCli(
                stack.bootstrapServers(), stack.registryUrl(), stack.blobStore().root(), MODELS)
            .run(args);
    assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
    return r.out();
  }

  private double validationFailures() {
    var c =
        stack
            .workers()
            .get(0)
            .metrics()
            .registry()
            .find("docstream.worker.adapter.validation.failures")
            .counters();
    return c.stream().mapToDouble(x -> x.count()).sum();
  }

  /** Sends jobs built from templates, with new ids; returns the ids. */
  private Set<String> send(List<LoadGenerator.Job> templates, String prefix, int n) {
    Set<String> ids = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      ids.add(send(templates.get(i % templates.size()), prefix + i));
    }
    producer.flush();
    return ids;
  }

  private String send(LoadGenerator.Job template, String id) {
    VerificationJob job =
        VerificationJob.newBuilder(template.job())
            .setJobId(id)
            .setSubmittedAt(Instant.now())
            .build();
    String topic = Topics.VERIFICATION_JOBS.name();
    producer.send(new ProducerRecord<>(topic, id, jobSerde.serialize(topic, job)));
    return id;
  }

  /**
   * A producer thread sending jobs at {@code perSecond} until interrupted; ids into {@code sent}.
   */
  private Thread steadyFlow(
      List<LoadGenerator.Job> templates, String prefix, int perSecond, Set<String> sent) {
    return new Thread(
        () -> {
          for (int i = 0; !Thread.currentThread().isInterrupted(); i++) {
            String id = send(templates.get(i % templates.size()), prefix + i);
            synchronized (sent) {
              sent.add(id);
            }
            try {
              Thread.sleep(1000 / perSecond);
            } catch (InterruptedException e) {
              break;
            }
          }
          producer.flush();
        },
        "steady-flow");
  }

  /** Sends jobs the canary must serve, one at a time, until one comes back from the canary. */
  private void awaitRouting(
      List<LoadGenerator.Job> templates,
      String prefix,
      java.util.function.Predicate<String> toCanary,
      Outputs out) {
    int[] n = {0};
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              String id;
              do {
                id = prefix + n[0]++;
              } while (!toCanary.test(id));
              send(templates.get(0), id);
              producer.flush();
              String probe = id;
              await()
                  .atMost(Duration.ofSeconds(20))
                  .until(() -> !out.resultsOf(Set.of(probe)).isEmpty());
              return out.resultsOf(Set.of(probe)).get(0).getAdapterVersion() == 2;
            });
  }

  /** Sends probes until intake accepts (or, {@code retired}, dead-letters as retired) the type. */
  private void awaitIntake(
      List<LoadGenerator.Job> templates, String prefix, Outputs out, boolean retired) {
    int[] n = {0};
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              String id = send(templates.get(0), prefix + n[0]++);
              producer.flush();
              Set<String> probe = Set.of(id);
              await()
                  .atMost(Duration.ofSeconds(20))
                  .until(() -> out.resultsOf(probe).size() + out.deadLettersOf(probe).size() > 0);
              List<DeadLetter> d = out.deadLettersOf(probe);
              return retired
                  ? !d.isEmpty() && d.get(0).getReason().equals("DOCUMENT_TYPE_RETIRED")
                  : d.isEmpty();
            });
  }

  /** Waits for every job's outcome and checks it is exactly one result, no dead letter. */
  private static Map<String, ExtractionResult> exactlyOne(Outputs out, Set<String> ids) {
    Set<String> snapshot;
    synchronized (ids) {
      snapshot = Set.copyOf(ids);
    }
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> out.resultsOf(snapshot).size() >= snapshot.size());
    List<ExtractionResult> results = out.resultsOf(snapshot);
    Map<String, Long> counts =
        results.stream()
            .collect(Collectors.groupingBy(ExtractionResult::getJobId, Collectors.counting()));
    assertEquals(snapshot.size(), counts.size(), "a result for every job");
    assertTrue(counts.values().stream().allMatch(c -> c == 1), "no job twice: " + counts);
    assertTrue(out.deadLettersOf(snapshot).isEmpty(), "no dead letters");
    Map<String, ExtractionResult> byId = new HashMap<>();
    results.forEach(r -> byId.put(r.getJobId(), r));
    return byId;
  }
}
