package dev.docstream.inference.worker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class RecordBufferTest {
  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);
  private static final TopicPartition P2 = new TopicPartition("t", 2);

  /** A poll result: {@code counts[i]} records on partition i, offsets from {@code from}. */
  private static ConsumerRecords<String, String> poll(long from, int... counts) {
    Map<TopicPartition, List<ConsumerRecord<String, String>>> m = new LinkedHashMap<>();
    TopicPartition[] tps = {P0, P1, P2};
    for (int p = 0; p < counts.length; p++) {
      List<ConsumerRecord<String, String>> list = new ArrayList<>();
      for (int i = 0; i < counts[p]; i++) {
        list.add(new ConsumerRecord<>("t", p, from + i, "k", "v"));
      }
      m.put(tps[p], list);
    }
    return new ConsumerRecords<>(m, Map.of());
  }

  private static String describe(List<ConsumerRecord<String, String>> records) {
    StringBuilder s = new StringBuilder();
    records.forEach(r -> s.append(r.partition()).append('@').append(r.offset()).append(' '));
    return s.toString().trim();
  }

  @Test
  void shouldTakeWholePartitionsInOffsetOrderAndServeTheOthersNext() {
    RecordBuffer<String, String> buffer = new RecordBuffer<>();
    poll(0, 3, 2, 2).forEach(buffer::add);
    assertEquals(7, buffer.size());
    // Partition 0 whole, then partition 1 cut short: it goes to the back of the line.
    assertEquals("0@0 0@1 0@2 1@0", describe(buffer.take(4)));
    assertEquals("2@0 2@1 1@1", describe(buffer.take(10)));
    assertTrue(buffer.isEmpty());
  }

  @Test
  void shouldAppendLaterPollsBehindEarlierRecordsOfThePartition() {
    RecordBuffer<String, String> buffer = new RecordBuffer<>();
    poll(0, 2).forEach(buffer::add);
    poll(2, 2).forEach(buffer::add);
    assertEquals("0@0 0@1 0@2 0@3", describe(buffer.take(10)));
  }

  @Test
  void shouldForgetDroppedPartitions() {
    RecordBuffer<String, String> buffer = new RecordBuffer<>();
    poll(0, 2, 3, 1).forEach(buffer::add);
    buffer.drop(List.of(P1, new TopicPartition("other", 0)));
    assertEquals(3, buffer.size());
    assertEquals("0@0 0@1 2@0", describe(buffer.take(10)));
    assertEquals(0, buffer.size());
  }
}
