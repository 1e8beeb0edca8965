package dev.docstream.topology.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.Priority;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replayed jobs reach the replay lane, from either input, and never queue with live ones. */
class IntakeReplayInputTest {
  private static final String SCOPE = "intake-replay-input-test";
  private static final String TYPE = "GBR-PASSPORT-2015";

  @TempDir Path tmp;

  @AfterEach
  void drop() {
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  @Test
  void shouldRouteReplayedJobsIntoTheReplayLaneFromASubTopologyOfTheirOwn() {
    IntakeConfig config =
        new IntakeConfig(
            Map.of(
                IntakeConfig.IMAGES_DIR_CONFIG,
                "",
                IntakeConfig.SCHEMA_REGISTRY_URL_CONFIG,
                "mock://" + SCOPE,
                IntakeConfig.DOCUMENT_TYPES_SOURCE_CONFIG,
                "static",
                IntakeConfig.DOCUMENT_TYPES_CONFIG,
                TYPE,
                IntakeConfig.STATE_DIR_CONFIG,
                tmp.resolve("state").toString()));
    var topology = IntakeTopology.buildTopology(config);
    assertEquals(
        2,
        topology.describe().subtopologies().size(),
        "the replay input is its own sub-topology: " + topology.describe());
    for (TopologyDescription.Subtopology sub : topology.describe().subtopologies()) {
      long sources =
          sub.nodes().stream().filter(n -> n instanceof TopologyDescription.Source).count();
      assertEquals(1, sources, "one input per sub-topology");
    }
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, config.streamsProperties())) {
      DriverTopics topics = DriverTopics.of(driver, SCOPE);
      var live = topics.jobs();
      var replay = topics.replayJobs();
      var liveLane = topics.requests();
      var replayLane = topics.replayRequests();
      var deadLetters = topics.deadLetters();

      live.pipeInput("a", TestJobs.job("a", TYPE).build());
      live.pipeInput(
          "b", TestJobs.job("b", TYPE).setPriority(Priority.REPLAY).setReplayOf("x").build());
      replay.pipeInput(
          "c", TestJobs.job("c", TYPE).setPriority(Priority.REPLAY).setReplayOf("y").build());
      replay.pipeInput("d", TestJobs.job("d", TYPE).build()); // on the replay input: replay lane
      replay.pipeInput("c", TestJobs.job("c", TYPE).setPriority(Priority.REPLAY).build());
      replay.pipeInput(
          "e", TestJobs.job("e", "XXX-NONE-1999").setPriority(Priority.REPLAY).build());

      assertEquals("a", liveLane.readValue().getJobId());
      assertTrue(liveLane.isEmpty());
      var lane = replayLane.readValuesToList();
      assertEquals(3, lane.size(), lane.toString());
      assertEquals("b", lane.get(0).getJobId());
      assertEquals("x", lane.get(0).getReplayOf());
      assertEquals("c", lane.get(1).getJobId());
      assertEquals("y", lane.get(1).getReplayOf());
      assertEquals("d", lane.get(2).getJobId());
      var dead = deadLetters.readValuesToList();
      assertEquals(2, dead.size(), dead.toString());
      assertEquals("DUPLICATE_JOB", dead.get(0).getReason());
      assertEquals("UNKNOWN_DOC_TYPE", dead.get(1).getReason());
    }
  }
}
