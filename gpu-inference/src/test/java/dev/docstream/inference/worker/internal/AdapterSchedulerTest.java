package dev.docstream.inference.worker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The adapter scheduler alone: items are "adapter:n" strings, times are milliseconds. */
class AdapterSchedulerTest {
  private static final long MS = 1_000_000L;

  private final AdapterScheduler<String> scheduler = new AdapterScheduler<>(8, 50 * MS);

  private void add(String adapter, int from, int count, long atMs) {
    for (int i = from; i < from + count; i++) {
      scheduler.add(adapter, adapter + ":" + i, atMs * MS);
    }
  }

  private List<String> next(int capacity, String merged, long atMs) {
    return scheduler.next(capacity, merged, atMs * MS, x -> true);
  }

  private static List<String> items(String adapter, int from, int count) {
    List<String> out = new ArrayList<>();
    for (int i = from; i < from + count; i++) {
      out.add(adapter + ":" + i);
    }
    return out;
  }

  @Test
  void shouldFillAMicroBatchAcrossPollsBeforeRunningIt() {
    add("A", 0, 5, 0); // first poll: 5 of 8
    assertEquals(List.of(), next(256, null, 1), "a part-filled queue waits");
    assertEquals(49 * MS, scheduler.nanosUntilReady(1 * MS));
    add("A", 5, 3, 2); // second poll fills it
    assertEquals(0, scheduler.nanosUntilReady(2 * MS));
    assertEquals(items("A", 0, 8), next(256, null, 2), "one full micro-batch, arrival order");
    assertTrue(scheduler.isEmpty());
  }

  @Test
  void shouldRunAPartFilledQueueOnceItsOldestHasWaitedTheMaxDelay() {
    add("A", 0, 3, 0);
    assertEquals(List.of(), next(256, null, 49));
    assertEquals(items("A", 0, 3), next(256, null, 50));
  }

  @Test
  void shouldGiveWholeMicroBatchesOnlyFromAFullQueueThatIsNotDue() {
    add("A", 0, 20, 0);
    assertEquals(items("A", 0, 16), next(256, null, 1), "two micro-batches; 4 wait to fill");
    assertEquals(items("A", 16, 4), next(256, null, 50), "the rest once due");
  }

  @Test
  void shouldRunTheMergedAdaptersQueueFirst() {
    add("B", 0, 8, 0); // older and as full
    add("A", 0, 8, 5);
    assertEquals(items("A", 0, 8), next(8, "A", 6), "the merged adapter needs no swap");
    assertEquals(items("B", 0, 8), next(8, "A", 6));
  }

  @Test
  void shouldRunADueQueueBeforeTheMergedAdaptersFullOne() {
    add("cold", 0, 1, 0);
    add("hot", 0, 8, 60);
    assertEquals(items("cold", 0, 1), next(8, "hot", 60), "due goes before full, merged or not");
    assertEquals(items("hot", 0, 8), next(8, "hot", 60));
  }

  @Test
  void shouldOrderQueuesByCreditWhenAllAreDue() {
    add("few", 0, 2, 0);
    add("many", 0, 8, 0);
    add("young", 0, 2, 40);
    List<String> batch = next(256, null, 100);
    assertEquals(items("many", 0, 8), batch.subList(0, 8), "fuller at the same wait goes first");
    assertEquals(items("few", 0, 2), batch.subList(8, 10));
    assertEquals(items("young", 0, 2), batch.subList(10, 12));
  }

  @Test
  void shouldLeaveARefusedItemQueuedInItsPlace() {
    add("A", 0, 3, 0);
    assertEquals(List.of("A:0", "A:2"), scheduler.next(256, null, 60 * MS, x -> !x.equals("A:1")));
    assertEquals(List.of("A:1"), next(256, null, 60));
  }

  @Test
  void shouldForgetTheItemsOfRevokedPartitions() {
    add("A", 0, 4, 0);
    add("B", 0, 4, 0);
    scheduler.removeIf(x -> x.startsWith("B") || x.equals("A:0"));
    assertEquals(3, scheduler.size());
    assertEquals(1, scheduler.queues());
    assertEquals(items("A", 1, 3), next(256, null, 60));
  }

  /**
   * A busy hot adapter that is merged and always full, and 30 cold ones with a job now and then:
   * the worker runs one micro-batch per 10 ms step, faster than the jobs arrive in all. No job
   * waits longer than its max delay plus one step (the batch in flight when it fell due).
   */
  @Test
  void shouldLetNoAdapterStarvePastItsMaxDelay() {
    Random random = new Random(7);
    Map<String, Long> arrived = new HashMap<>();
    Set<String> ran = new HashSet<>();
    long maxWait = 0;
    int n = 0;
    for (long t = 0; t < 20_000; t += 10) {
      for (int i = 0; i < 6; i++) { // the hot adapter: 6 jobs per step
        String id = "hot:" + n++;
        scheduler.add("hot", id, t * MS);
        arrived.put(id, t);
      }
      if (random.nextInt(10) == 0) { // a cold job every ~100 ms
        String adapter = "cold" + random.nextInt(30);
        String id = adapter + ":" + n++;
        scheduler.add(adapter, id, t * MS);
        arrived.put(id, t);
      }
      for (String id : next(8, "hot", t)) {
        maxWait = Math.max(maxWait, t - arrived.get(id));
        assertTrue(ran.add(id), "ran twice: " + id);
      }
    }
    assertTrue(maxWait <= 50 + 10, "longest wait " + maxWait + " ms");
    assertTrue(scheduler.size() < 64, "the backlog stays bounded: " + scheduler.size());
  }

  /**
   * An overload: the merged hot adapter gets more jobs per step than a batch holds, so its queue is
   * always full and due, and every wait grows. The cold adapters are not starved behind it: their
   * jobs wait no longer than the hot adapter's own (plus two max delays and a step).
   */
  @Test
  void shouldNotStarveTheOthersWhileTheMergedOneIsOverloaded() {
    Map<String, Long> arrived = new HashMap<>();
    long maxColdWait = 0;
    long maxHotWait = 0;
    int coldServed = 0;
    int n = 0;
    for (long t = 0; t < 5_000; t += 10) {
      for (int i = 0; i < 20; i++) { // 20 hot jobs per step, 16 served per step
        String id = "hot:" + n++;
        scheduler.add("hot", id, t * MS);
        arrived.put(id, t);
      }
      if (t % 100 == 0) {
        String adapter = "cold" + (t / 100 % 7);
        String id = adapter + ":" + n++;
        scheduler.add(adapter, id, t * MS);
        arrived.put(id, t);
      }
      for (String id : next(16, "hot", t)) {
        long wait = t - arrived.remove(id);
        if (id.startsWith("hot")) {
          maxHotWait = Math.max(maxHotWait, wait);
        } else {
          maxColdWait = Math.max(maxColdWait, wait);
          coldServed++;
        }
      }
    }
    assertTrue(coldServed >= 35, "cold jobs served: " + coldServed + " of 50");
    assertTrue(
        maxColdWait <= maxHotWait + 2 * 50 + 10,
        "longest cold wait " + maxColdWait + " ms, hot " + maxHotWait + " ms");
  }
}
