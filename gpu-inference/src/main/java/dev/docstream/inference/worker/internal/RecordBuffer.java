package dev.docstream.inference.worker.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Records polled and not yet handed to inference, in offset order per partition. Owned by the
 * polling thread; not thread-safe.
 *
 * <p>{@link #take} drains whole partitions in turn (a partition holds few document types, so a
 * batch keeps long runs of one adapter), and a partition it took from goes to the back of the line
 * so that none waits behind a busy one.
 */
public final class RecordBuffer<K, V> {
  private final Map<TopicPartition, ArrayDeque<ConsumerRecord<K, V>>> partitions =
      new LinkedHashMap<>();
  private int size;

  /** Appends one record. */
  public void add(ConsumerRecord<K, V> r) {
    partitions
        .computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayDeque<>())
        .add(r);
    size++;
  }

  /** Removes and returns up to {@code max} records, whole partitions first. */
  public List<ConsumerRecord<K, V>> take(int max) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>(Math.min(max, size));
    for (TopicPartition tp : new ArrayList<>(partitions.keySet())) {
      if (out.size() >= max) {
        break;
      }
      ArrayDeque<ConsumerRecord<K, V>> queue = partitions.remove(tp);
      while (!queue.isEmpty() && out.size() < max) {
        out.add(queue.poll());
      }
      if (!queue.isEmpty()) {
        partitions.put(tp, queue); // back of the line (insertion order)
      }
    }
    size -= out.size();
    return out;
  }

  /** Forgets the records of these partitions (revoked, or to be read again after a seek). */
  public void drop(Collection<TopicPartition> gone) {
    for (TopicPartition tp : gone) {
      ArrayDeque<ConsumerRecord<K, V>> queue = partitions.remove(tp);
      if (queue != null) {
        size -= queue.size();
      }
    }
  }

  /** Records held. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }
}
