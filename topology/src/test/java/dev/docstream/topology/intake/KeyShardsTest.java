package dev.docstream.topology.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A hot document type's jobs spread over key shards; cold types keep one key. */
class KeyShardsTest {
  private static final String SCOPE = "key-shards-test";
  private static final String HOT = "GBR-PASSPORT-2015";
  private static final String COLD = "FRA-ID-CARD-2020";

  @TempDir Path tmp;

  @Test
  void shouldKeyAHotTypesJobsOverItsShardsAndLeaveColdTypesAlone() {
    IntakeConfig config =
        new IntakeConfig(
            Map.of(
                IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG,
                "mock://" + SCOPE,
                IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG,
                "static",
                IntakeConfig.DOCUMENT_TYPES_CONFIG,
                HOT + "," + COLD,
                IntakeConfig.HOT_TYPES_CONFIG,
                HOT + ":4",
                IntakeConfig.IMAGES_DIR_CONFIG,
                "",
                IntakeConfig.STATE_DIR_CONFIG,
                tmp.resolve("state").toString()));
    try (TopologyTestDriver driver =
        new TopologyTestDriver(IntakeTopology.buildTopology(config), config.streamsProperties())) {
      var registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
      TestInputTopic<String, VerificationJob> jobs =
          driver.createInputTopic(
              Topics.VERIFICATION_JOBS.name(),
              new StringSerializer(),
              Topics.VERIFICATION_JOBS.valueSerde(registry));
      TestOutputTopic<String, ExtractionRequest> requests =
          driver.createOutputTopic(
              Topics.EXTRACTION_REQUESTS.name(),
              new StringDeserializer(),
              Topics.EXTRACTION_REQUESTS.valueSerde(registry));
      for (int i = 0; i < 200; i++) {
        String type = i % 5 == 0 ? COLD : HOT;
        jobs.pipeInput("job-" + i, TestJobs.job("job-" + i, type).build());
      }
      Map<String, Integer> byKey = new HashMap<>();
      Map<Integer, Integer> hotPartitions = new HashMap<>();
      for (KeyValue<String, ExtractionRequest> r : requests.readKeyValuesToList()) {
        byKey.merge(r.key, 1, Integer::sum);
        if (r.value.getDocumentType().equals(HOT)) {
          assertEquals(
              config.keyShards().key(HOT, r.value.getJobId()), r.key, "the job id picks its shard");
          hotPartitions.merge(
              BuiltInPartitioner.partitionForKey(r.key.getBytes(), 16), 1, Integer::sum);
        } else {
          assertEquals(COLD, r.key, "a cold type keeps its own key");
        }
      }
      assertEquals(40, byKey.get(COLD));
      for (int k = 0; k < 4; k++) {
        assertTrue(byKey.getOrDefault(HOT + "#" + k, 0) > 20, "shard " + k + ": " + byKey);
      }
      assertEquals(5, byKey.size());
      assertTrue(hotPartitions.size() > 1, "the hot type reaches several of 16 partitions");
    } finally {
      InMemorySchemaRegistry.dropScope(SCOPE);
    }
  }

  @Test
  void shouldRefuseABadEntryNamingIt() {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> KeyShards.parse(IntakeConfig.HOT_TYPES_CONFIG, List.of("A:4", "B:zero")));
    assertTrue(e.getMessage().contains("B:zero"), e.getMessage());
    assertThrows(
        ConfigException.class, () -> KeyShards.parse(IntakeConfig.HOT_TYPES_CONFIG, List.of(":3")));
    assertThrows(
        ConfigException.class,
        () -> KeyShards.parse(IntakeConfig.HOT_TYPES_CONFIG, List.of("A:100000")));
  }

  @Test
  void shouldSuggestShardsSoThatNoShardKeepsAWorkerBusierThanTheTarget() {
    assertEquals(
        List.of("A:4", "B:2"),
        KeyShards.suggest(Map.of("A", 250.0, "B", 100.0, "C", 50.0), 100, 0.7));
  }
}
