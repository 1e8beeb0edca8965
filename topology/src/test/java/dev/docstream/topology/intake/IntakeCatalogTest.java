package dev.docstream.topology.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Intake asks its catalog for every job: a type published or retired later is seen at once. */
class IntakeCatalogTest {
  private static final String SCOPE = "intake-catalog-test";
  private static final String TYPE = "GBR-PASSPORT-2015";

  @TempDir Path tmp;

  @AfterEach
  void drop() {
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  private IntakeConfig config(String source) {
    return new IntakeConfig(
        Map.of(
            IntakeConfig.IMAGES_DIR_CONFIG,
            "",
            IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG,
            "mock://" + SCOPE,
            IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG,
            source,
            IntakeConfig.STATE_DIR_CONFIG,
            tmp.resolve("state").toString()));
  }

  @Test
  void shouldFollowTheCatalogJobByJob() {
    Map<String, DocumentTypeCatalog.Status> standing = new ConcurrentHashMap<>();
    DocumentTypeCatalog catalog =
        type -> standing.getOrDefault(type, DocumentTypeCatalog.Status.UNKNOWN);
    IntakeConfig config = config("registry");
    try (TopologyTestDriver driver =
        new TopologyTestDriver(
            IntakeTopology.buildTopology(config, catalog), config.streamsProperties())) {
      DriverTopics topics = DriverTopics.of(driver, SCOPE);
      var jobs = topics.jobs();
      var requests = topics.requests();
      var deadLetters = topics.deadLetters();

      jobs.pipeInput("job-1", TestJobs.job("job-1", TYPE).build());
      assertEquals("UNKNOWN_DOC_TYPE", deadLetters.readValue().getReason());

      standing.put(TYPE, DocumentTypeCatalog.Status.SERVED); // its adapter is promoted
      jobs.pipeInput("job-2", TestJobs.job("job-2", TYPE).build());
      ExtractionRequest accepted = requests.readValue();
      assertEquals("job-2", accepted.getJobId());

      standing.put(TYPE, DocumentTypeCatalog.Status.RETIRED); // its adapter is retired
      jobs.pipeInput("job-3", TestJobs.job("job-3", TYPE).build());
      DeadLetter d = deadLetters.readValue();
      assertEquals("DOCUMENT_TYPE_RETIRED", d.getReason());
      assertEquals("job-3", d.getJobId());
      assertTrue(d.getDetail().contains("retired"), d.getDetail());
      assertTrue(requests.isEmpty() && deadLetters.isEmpty());
    }
  }

  @Test
  void shouldRefuseToStartOnTheRegistryWithoutACatalog() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> IntakeApp.start(config("registry")));
    assertTrue(e.getMessage().contains(IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG), e.getMessage());
  }
}
