package dev.docstream.inference.worker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The replay lane on Kafka's MockConsumer: live first, replay only in the live lane's gaps. */
class PollLoopReplayLaneTest {
  private static final TopicPartition LIVE = new TopicPartition("live", 0);
  private static final TopicPartition REPLAY = new TopicPartition("replay", 0);

  private final ExecutorService inference = Executors.newSingleThreadExecutor();
  private final MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
  private final List<List<String>> batches = new ArrayList<>();

  @AfterEach
  void stop() {
    inference.shutdownNow();
  }

  private PollLoop loop(int replayBatch) {
    return new PollLoop(
        new PollSettings(
            "w",
            LIVE.topic(),
            Duration.ofMillis(5),
            8,
            1000,
            3,
            REPLAY.topic(),
            replayBatch,
            1.0,
            1,
            Duration.ZERO),
        consumer,
        inference,
        batch ->
            (group, offsets) -> {
              synchronized (batches) {
                batches.add(batch.stream().map(ConsumerRecord::key).toList());
              }
            },
        new PollLoop.Observer() {});
  }

  private void add(TopicPartition tp, long offset) {
    consumer.addRecord(
        new ConsumerRecord<>(
            tp.topic(), tp.partition(), offset, tp.topic() + "-" + offset, new byte[0]));
  }

  @Test
  void shouldServeLiveRecordsFirstAndReplayOnlyWhenTheLiveLaneIsIdle() throws Exception {
    PollLoop loop = loop(4);
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(LIVE, REPLAY));
          consumer.updateBeginningOffsets(Map.of(LIVE, 0L, REPLAY, 0L));
          consumer.updateEndOffsets(Map.of(LIVE, 20L, REPLAY, 10L));
          for (long o = 0; o < 10; o++) {
            add(REPLAY, o); // the replay backlog was there first
          }
          for (long o = 0; o < 20; o++) {
            add(LIVE, o);
          }
        });
    Thread t = new Thread(loop::run);
    t.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      synchronized (batches) {
        if (batches.stream().mapToInt(List::size).sum() >= 30) {
          break;
        }
      }
      Thread.sleep(10);
    }
    loop.stop();
    t.join(5000);
    List<String> order = new ArrayList<>();
    batches.forEach(order::addAll);
    assertEquals(30, order.size(), "every record once: " + order);
    int lastLive = -1;
    int firstReplay = Integer.MAX_VALUE;
    for (int i = 0; i < order.size(); i++) {
      if (order.get(i).startsWith("live")) {
        lastLive = i;
      } else {
        firstReplay = Math.min(firstReplay, i);
      }
    }
    assertTrue(lastLive < firstReplay, "all 20 live records before any replay record: " + order);
    for (List<String> b : batches) {
      if (b.get(0).startsWith("replay")) {
        assertTrue(b.size() <= 4, "replay batches of at most 4: " + b);
      } else {
        assertTrue(b.stream().allMatch(k -> k.startsWith("live")), "no lane mixes: " + b);
      }
    }
  }

  @Test
  void shouldPauseTheReplayLaneAgainAfterARebalance() throws Exception {
    PollLoop loop = loop(4);
    consumer.schedulePollTask(
        () -> {
          consumer.rebalance(List.of(LIVE, REPLAY));
          consumer.updateBeginningOffsets(Map.of(LIVE, 0L, REPLAY, 0L));
          consumer.updateEndOffsets(Map.of(LIVE, 5L, REPLAY, 0L)); // live backlog on the broker
        });
    Thread t = new Thread(loop::run);
    t.start();
    Thread.sleep(300);
    assertTrue(consumer.paused().contains(REPLAY), "live lag > 0: the replay lane is paused");
    consumer.schedulePollTask(() -> consumer.rebalance(List.of(LIVE, REPLAY)));
    Thread.sleep(300);
    assertTrue(consumer.paused().contains(REPLAY), "paused again after the rebalance");
    loop.stop();
    t.join(5000);
  }
}
