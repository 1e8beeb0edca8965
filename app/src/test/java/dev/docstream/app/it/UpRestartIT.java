package dev.docstream.app.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.app.LoadGenerator;
import dev.docstream.embedded.TopicReader;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.RestSchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docstream up}, as a user runs it (a child JVM), restarted on the same data folder: after a
 * crash (SIGKILL) and after a clean stop. Every schema id served before is served with the same
 * schema after, as an outside client sees them through the REST API alone; records written before
 * decode after; a new schema gets a new id; and each restart is ready within 15 s.
 */
class UpRestartIT {
  /** The restart budget the poison-pill issue sets (the ready timeout is 60 s). */
  static final double READY_WITHIN_SECONDS = 15;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path dir;

  @Test
  void shouldKeepSchemaIdsAndBeReadyQuicklyAfterACrashAndAfterACleanStop() throws Exception {
    Path data = dir.resolve("data");
    Up first = start(data, true, 1);
    int firstJobs;
    Map<Integer, String> before;
    try {
      firstJobs = produce(first, 30, 1);
      assertEquals(firstJobs, results(first, firstJobs).size());
      before = schemasById(first.registry());
      assertTrue(
          before.size() >= 3, "jobs, requests, results and dead letters registered: " + before);
    } finally {
      first
          .process()
          .destroyForcibly()
          .waitFor(30, TimeUnit.SECONDS); // a crash: nothing leaves its group
    }

    assertTrue(
        Up.output(first.log()).contains("  published:"),
        "the first start publishes the shipped adapters");
    Up second = start(data, false, 2);
    try {
      assertFalse(
          Up.output(second.log()).contains("  published:"), "a restart publishes nothing again");
      System.out.printf("restart after a crash: ready in %.1f s%n", second.readySeconds());
      assertTrue(
          second.readySeconds() < READY_WITHIN_SECONDS, "ready in " + second.readySeconds() + " s");
      for (var e : before.entrySet()) {
        assertEquals(
            e.getValue(), schema(second.registry(), e.getKey()), "schema id " + e.getKey());
      }
      AvroSerde<ExtractionResult> outside =
          new AvroSerde<>(
              ExtractionResult.class,
              new RestSchemaRegistry(second.registry(), null, Duration.ofSeconds(10)));
      List<ConsumerRecord<String, byte[]>> old = results(second, firstJobs);
      for (ConsumerRecord<String, byte[]> r : old) {
        assertEquals(
            r.key(),
            outside.deserialize(r.topic(), r.value()).getJobId(),
            "a result written before decodes");
      }
      int fresh =
          register(
              second.registry(),
              "restart-it-value",
              "{\"type\":\"record\",\"name\":\"RestartProbe\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}");
      assertFalse(
          before.containsKey(fresh), "a new schema gets an id no other schema had: " + fresh);
      assertTrue(fresh > before.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow());
      int more = produce(second, 20, 2);
      assertEquals(
          firstJobs + more,
          results(second, firstJobs + more).size(),
          "the pipeline works after the restart");
    } finally {
      second.process().destroy(); // a clean stop: the shutdown hook leaves the groups
      assertTrue(second.process().waitFor(60, TimeUnit.SECONDS), "up stops on SIGTERM");
    }

    Up third = start(data, false, 3);
    try {
      System.out.printf("restart after a clean stop: ready in %.1f s%n", third.readySeconds());
      assertTrue(
          third.readySeconds() < READY_WITHIN_SECONDS, "ready in " + third.readySeconds() + " s");
      assertEquals(
          before.get(before.keySet().iterator().next()),
          schema(third.registry(), before.keySet().iterator().next()));
    } finally {
      third.process().destroy();
      third.process().waitFor(60, TimeUnit.SECONDS);
    }
  }

  private Up start(Path data, boolean fresh, int n) throws Exception {
    return Up.start(
        dir.resolve("up-" + n + ".log"),
        "up",
        "--data",
        data.toString(),
        "--fresh",
        String.valueOf(fresh),
        "--workers",
        "1",
        "--registry-port",
        "0",
        "--adapters-port",
        "0",
        "--review-port",
        "0",
        "--kafka-port",
        "0",
        "--models",
        DemoIT.MODELS.toString());
  }

  /** Produces good jobs through the REST registry, as an outside client would; returns how many. */
  private static int produce(Up up, int count, long seed) {
    List<LoadGenerator.Job> jobs =
        LoadGenerator.generate(
            List.of("GBR-PASSPORT-2000", "NLD-ID-CARD-2024"), count, 1.1, 0, seed);
    LoadGenerator.produce(
        up.bootstrap(),
        new RestSchemaRegistry(up.registry(), null, Duration.ofSeconds(10)),
        jobs,
        0);
    return jobs.size();
  }

  private static List<ConsumerRecord<String, byte[]>> results(Up up, int expected) {
    return TopicReader.readCommitted(
        up.bootstrap(),
        Topics.EXTRACTION_RESULTS.name(),
        new ByteArrayDeserializer(),
        expected,
        Duration.ofSeconds(90),
        Duration.ofSeconds(1));
  }

  /** Every (id, schema) the registry serves, found through the REST API alone. */
  private static Map<Integer, String> schemasById(String registry) throws Exception {
    Map<Integer, String> out = new TreeMap<>();
    for (JsonNode subject : get(registry + "/subjects")) {
      for (JsonNode version : get(registry + "/subjects/" + subject.asText() + "/versions")) {
        JsonNode v =
            get(registry + "/subjects/" + subject.asText() + "/versions/" + version.asInt());
        out.put(v.get("id").asInt(), v.get("schema").asText());
      }
    }
    return out;
  }

  private static String schema(String registry, int id) throws Exception {
    return get(registry + "/schemas/ids/" + id).get("schema").asText();
  }

  private static int register(String registry, String subject, String schema) throws Exception {
    String body = JSON.createObjectNode().put("schema", schema).toString();
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(registry + "/subjects/" + subject + "/versions"))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JSON.readTree(r.body()).get("id").asInt();
  }

  private static JsonNode get(String url) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(url)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), url + ": " + r.body());
    return JSON.readTree(r.body());
  }
}
