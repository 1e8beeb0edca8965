package dev.docstream.inference.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimulationTest {
  /** ViT-B on this 2-core machine, roughly: forward 300 ms (1) to 14 s (32), swap 170 ms. */
  private static final Costs CPU = new Costs(300, 14_000, 170, 60, 1.2);

  private static List<Arrivals.Job> traffic(double load, int partitions, int workers, int hot) {
    double rate = load * workers * 32 / CPU.forwardMs(32); // full micro-batches, no swaps
    return Arrivals.generate(500, 1.1, 20_000, rate, partitions, hot, 4, 3);
  }

  @Test
  void shouldAssignEveryPartitionOnceAndEvenlyAsKafkasAssignorDoes() {
    Map<Integer, Integer> owner = Assignment.cooperativeSticky(16, 3);
    assertEquals(16, owner.size());
    Map<Integer, Integer> perWorker = new HashMap<>();
    owner.values().forEach(w -> perWorker.merge(w, 1, Integer::sum));
    assertEquals(3, perWorker.size());
    assertTrue(perWorker.values().stream().allMatch(n -> n == 5 || n == 6), perWorker.toString());
  }

  @Test
  void shouldPartitionKeysAsKafkasDefaultPartitioner() {
    // murmur2("GBR-PASSPORT-2015") as Kafka's BuiltInPartitioner.partitionForKey computes it
    int expected =
        org.apache.kafka.clients.producer.internals.BuiltInPartitioner.partitionForKey(
            "GBR-PASSPORT-2015".getBytes(java.nio.charset.StandardCharsets.UTF_8), 24);
    assertEquals(expected, Arrivals.partitionOf("GBR-PASSPORT-2015", 24));
  }

  @Test
  void shouldServeEveryJobOnceUnderEveryPolicy() {
    List<Arrivals.Job> jobs = traffic(0.7, 8, 2, 0);
    for (Simulation.Policy p : Simulation.Policy.values()) {
      Simulation.Result r =
          Simulation.run(jobs, 8, 2, Simulation.Settings.defaults(64).withPolicy(p), CPU);
      assertEquals(jobs.size(), r.jobs(), p.toString());
      assertTrue(r.utilisation() > 0 && r.maxUtilisation() <= 1.0001, p + ": " + r);
      assertTrue(
          r.p50QueueMs() <= r.p95QueueMs() && r.p95QueueMs() <= r.p99QueueMs(), p + ": " + r);
    }
  }

  @Test
  void shouldNeverSwapUnmergedAndSwapLessWithTheHybrid() {
    List<Arrivals.Job> jobs = traffic(0.7, 8, 2, 0);
    Simulation.Settings s = Simulation.Settings.defaults(64);
    long merged = Simulation.run(jobs, 8, 2, s, CPU).swaps();
    long unmerged =
        Simulation.run(jobs, 8, 2, s.withPolicy(Simulation.Policy.UNMERGED), CPU).swaps();
    long hybrid = Simulation.run(jobs, 8, 2, s.withPolicy(Simulation.Policy.HYBRID), CPU).swaps();
    assertEquals(0, unmerged);
    assertTrue(merged > 0 && hybrid < merged, "merged " + merged + ", hybrid " + hybrid);
  }

  @Test
  void shouldQueueLongerAtHigherLoad() {
    Simulation.Settings s = Simulation.Settings.defaults(64);
    double low = Simulation.run(traffic(0.3, 8, 2, 0), 8, 2, s, CPU).p95QueueMs();
    double high = Simulation.run(traffic(0.9, 8, 2, 0), 8, 2, s, CPU).p95QueueMs();
    assertTrue(high > low, "p95 at 30 % " + low + " ms, at 90 % " + high + " ms");
  }

  @Test
  void shouldMissTheCacheMoreWhenItHoldsFewerAdapters() {
    List<Arrivals.Job> jobs = traffic(0.7, 8, 2, 0);
    double small = Simulation.run(jobs, 8, 2, Simulation.Settings.defaults(4), CPU).cacheHitRate();
    double big = Simulation.run(jobs, 8, 2, Simulation.Settings.defaults(500), CPU).cacheHitRate();
    assertTrue(small < big, "hit rate with 4 adapters " + small + ", with 500 " + big);
  }

  @Test
  void shouldSpreadAHotTypeOverSeveralPartitions() {
    long partitions =
        traffic(0.7, 16, 4, 1).stream()
            .filter(j -> j.request().getDocumentType().equals(Arrivals.typeName(0)))
            .map(Arrivals.Job::partition)
            .distinct()
            .count();
    assertTrue(
        partitions > 1, "the hottest type over 4 keys lands on " + partitions + " partitions");
  }

  @Test
  void shouldRefuseCostsThatCannotBe() {
    assertThrows(IllegalArgumentException.class, () -> new Costs(10, 5, 1, 0, 1.2));
    assertThrows(IllegalArgumentException.class, () -> new Costs(1, 5, 1, 0, 0.5));
  }
}
