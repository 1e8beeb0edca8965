package dev.docstream.inference.worker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The out-of-order offset bookkeeping, for any completion order. */
class OffsetLedgerTest {
  private static final TopicPartition TP = new TopicPartition("requests", 3);

  private static ConsumerRecord<String, byte[]> record(long offset) {
    return new ConsumerRecord<>(TP.topic(), TP.partition(), offset, "k", new byte[0]);
  }

  private static List<ConsumerRecord<String, byte[]>> records(long... offsets) {
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    for (long o : offsets) {
      out.add(record(o));
    }
    return out;
  }

  @Test
  void shouldCommitTheLowestUndoneOffsetAndNameTheDoneOnesBeyondIt() {
    OffsetLedger ledger = new OffsetLedger();
    ledger.assign(TP, new OffsetAndMetadata(10));
    for (long o = 10; o < 16; o++) {
      assertTrue(ledger.polled(TP, o));
    }
    List<ConsumerRecord<String, byte[]>> batch = records(12, 13, 15);
    OffsetAndMetadata c = ledger.commitFor(batch).get(TP);
    assertEquals(10, c.offset());
    assertEquals(Set.of(12L, 13L, 15L), OffsetLedger.decode(c));
    assertEquals(10, ledger.commitPoint(TP), "nothing changes before the transaction commits");
    ledger.completed(batch);
    OffsetAndMetadata after = ledger.commitFor(records(10, 11)).get(TP);
    assertEquals(14, after.offset(), "10 to 13 done: 14 is the lowest undone");
    assertEquals(Set.of(15L), OffsetLedger.decode(after));
    ledger.completed(records(10, 11));
    OffsetAndMetadata last = ledger.commitFor(records(14)).get(TP);
    assertEquals(16, last.offset());
    assertEquals("", last.metadata(), "all done: no metadata");
  }

  @Test
  void shouldSkipAfterARestartExactlyTheOffsetsTheMetadataNames() {
    OffsetLedger restarted = new OffsetLedger();
    restarted.assign(TP, new OffsetAndMetadata(20, OffsetLedger.encode(20, List.of(22L, 25L))));
    assertTrue(restarted.polled(TP, 20));
    assertTrue(restarted.polled(TP, 21));
    assertFalse(restarted.polled(TP, 22), "done before the restart");
    assertTrue(restarted.polled(TP, 24)); // 23: a transaction marker, never polled
    assertFalse(restarted.polled(TP, 25));
    OffsetAndMetadata c = restarted.commitFor(records(21)).get(TP);
    assertEquals(20, c.offset());
    assertEquals(
        Set.of(21L, 22L, 25L), OffsetLedger.decode(c), "what the restart skipped stays done");
  }

  /**
   * A poll that ends just before an offset the metadata names: the commit after it skips that
   * offset (it must not name a done offset, whose metadata would then forget it), and the next poll
   * still skips it.
   */
  @Test
  void shouldNeverCommitAtAnOffsetThatIsDone() {
    OffsetLedger ledger = new OffsetLedger();
    ledger.assign(TP, new OffsetAndMetadata(100, OffsetLedger.encode(100, List.of(105L, 107L))));
    for (long o = 100; o < 105; o++) {
      assertTrue(ledger.polled(TP, o));
    }
    List<ConsumerRecord<String, byte[]>> batch = records(100, 101, 102, 103, 104);
    OffsetAndMetadata c = ledger.commitFor(batch).get(TP);
    assertEquals(106, c.offset(), "105 is done: the commit goes past it");
    assertEquals(Set.of(107L), OffsetLedger.decode(c));
    ledger.completed(batch);
    assertFalse(ledger.polled(TP, 105), "still done after the prune");
    assertTrue(ledger.polled(TP, 106));
    assertFalse(ledger.polled(TP, 107));
    assertEquals(106, ledger.commitPoint(TP));
  }

  @Test
  void shouldReadNoDoneOffsetsFromMetadataOfAnotherFormat() {
    assertEquals(Set.of(), OffsetLedger.decode(new OffsetAndMetadata(5, "")));
    assertEquals(Set.of(), OffsetLedger.decode(new OffsetAndMetadata(5, "someone else's")));
    assertEquals(Set.of(), OffsetLedger.decode(new OffsetAndMetadata(5, "ds1:!!not base64")));
  }

  @Test
  void shouldRefuseToRunARecordBeyondTheSpanTheMetadataCanDescribe() {
    OffsetLedger ledger = new OffsetLedger();
    ledger.polled(TP, 0);
    ledger.polled(TP, OffsetLedger.MAX_SPAN + 1);
    assertTrue(ledger.withinSpan(TP, OffsetLedger.MAX_SPAN));
    assertFalse(ledger.withinSpan(TP, OffsetLedger.MAX_SPAN + 1));
    ledger.completed(records(0));
    assertTrue(ledger.withinSpan(TP, OffsetLedger.MAX_SPAN + 1), "once the head is done");
  }

  /**
   * Property: offsets with gaps (transaction markers), done in random batches in random order, a
   * crash after a random commit. After every commit the committed offset is the lowest offset not
   * done (or one past the last polled) and the metadata names exactly the done offsets beyond it;
   * after the crash a new ledger, fed what a consumer reads from the committed offset, skips
   * exactly the done records: every record runs exactly once in all.
   */
  @Test
  void shouldRunEveryRecordExactlyOnceForAnyCompletionOrderAndCrashPoint() {
    Random random = new Random(42);
    for (int trial = 0; trial < 300; trial++) {
      List<Long> log = new ArrayList<>();
      for (long o = random.nextInt(5); log.size() < 60; o += 1 + (random.nextInt(4) == 0 ? 1 : 0)) {
        log.add(o);
      }
      OffsetLedger ledger = new OffsetLedger();
      ledger.assign(TP, null);
      log.forEach(o -> ledger.polled(TP, o));
      List<Long> order = new ArrayList<>(log);
      Collections.shuffle(order, random);
      TreeSet<Long> done = new TreeSet<>();
      OffsetAndMetadata lastCommit = null;
      int crashAfter = random.nextInt(12);
      int batches = 0;
      for (int i = 0; i < order.size() && batches <= crashAfter; batches++) {
        int n = 1 + random.nextInt(8);
        List<Long> part = order.subList(i, Math.min(order.size(), i + n));
        i += part.size();
        List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
        part.forEach(o -> batch.add(record(o)));
        Map<TopicPartition, OffsetAndMetadata> c = ledger.commitFor(batch);
        ledger.completed(batch);
        done.addAll(part);
        lastCommit = c.get(TP);
        long lowestUndone =
            log.stream().filter(o -> !done.contains(o)).findFirst().orElse(log.get(59) + 1);
        assertEquals(lowestUndone, lastCommit.offset(), "trial " + trial);
        assertEquals(done.tailSet(lowestUndone, false), OffsetLedger.decode(lastCommit));
      }
      // The crash: a new owner reads from the committed offset, in polls of random size, and
      // runs what it polled in random batches between them.
      OffsetLedger next = new OffsetLedger();
      next.assign(TP, lastCommit);
      long from = lastCommit.offset();
      List<Long> toRead = log.stream().filter(o -> o >= from).toList();
      List<Long> waiting = new ArrayList<>();
      List<Long> runAgain = new ArrayList<>();
      int read = 0;
      while (read < toRead.size() || !waiting.isEmpty()) {
        for (int k = 1 + random.nextInt(6); k > 0 && read < toRead.size(); k--, read++) {
          if (next.polled(TP, toRead.get(read))) {
            waiting.add(toRead.get(read));
          }
        }
        Collections.shuffle(waiting, random);
        List<Long> part = new ArrayList<>(waiting.subList(0, random.nextInt(waiting.size() + 1)));
        waiting.removeAll(part);
        if (part.isEmpty()) {
          continue;
        }
        List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
        part.forEach(o -> batch.add(record(o)));
        OffsetAndMetadata c = next.commitFor(batch).get(TP);
        next.completed(batch);
        runAgain.addAll(part);
        Set<Long> doneNow = new TreeSet<>(done);
        doneNow.addAll(runAgain);
        assertFalse(doneNow.contains(c.offset()), "trial " + trial + ": commit at a done offset");
        for (long o : log) {
          boolean covered = o < c.offset() || OffsetLedger.decode(c).contains(o);
          assertEquals(doneNow.contains(o), covered, "trial " + trial + ", offset " + o);
        }
      }
      List<Long> all = new ArrayList<>(done);
      all.addAll(runAgain);
      Collections.sort(all);
      assertEquals(log, all, "trial " + trial + ": every record exactly once");
    }
  }
}
