package dev.docstream.inference.worker.internal;

import java.util.Base64;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which polled records of each partition are done, when they complete out of order (the adapter
 * scheduler runs a partition's records in the order of their adapters' turns, not of their
 * offsets). A commit names the lowest offset not yet done and, in the offset's metadata, the done
 * offsets beyond it (as parallel-consumer does), so that after a restart or a rebalance the new
 * owner reads from that offset and skips what is already done: nothing is redone, nothing lost.
 *
 * <p>The metadata is {@value #PREFIX} and a URL-safe Base64 bit set: bit i set means offset {@code
 * committed + 1 + i} is done. It must fit Kafka's {@code offset.metadata.max.bytes} (4,096 by
 * default), so a record more than {@value #MAX_SPAN} offsets beyond its partition's lowest undone
 * one is not run until that one is ({@link #withinSpan}).
 *
 * <p>Thread-safe: the polling thread records polls and assignments, the inference thread asks for
 * the offsets to commit and marks what committed.
 */
public final class OffsetLedger {
  /** The metadata's prefix: this ledger's format, version 1. */
  public static final String PREFIX = "ds1:";

  /** The most offsets beyond the lowest undone one a record may be run at (see withinSpan). */
  public static final int MAX_SPAN = 20_000;

  /** Kafka's default {@code offset.metadata.max.bytes} is 4,096; a span of MAX_SPAN needs 3,338. */
  static final int MAX_METADATA_CHARS = 4_000;

  private final Map<TopicPartition, Part> parts = new HashMap<>();

  /** One partition: offsets polled and not done, offsets done beyond the lowest undone one. */
  private static final class Part {
    final NavigableSet<Long> undone = new TreeSet<>();
    final NavigableSet<Long> done = new TreeSet<>();

    /** One past the highest offset polled (or the committed offset before any poll); -1 unknown. */
    long next = -1;

    /**
     * The offset a commit names now, were {@code also} done too: the lowest undone polled offset,
     * else the first offset from {@code next} on that is not done (a commit never names a done
     * offset: its metadata describes only the offsets beyond it).
     */
    long commitPoint(Set<Long> also) {
      for (long o : undone) {
        if (!also.contains(o)) {
          return o;
        }
      }
      long point = next;
      while (point >= 0 && done.contains(point)) {
        point++;
      }
      return point;
    }

    /**
     * Forgets the done offsets below the commit point that were polled again: they are never read
     * again. Those not yet polled stay, so the poll that brings them skips them.
     */
    void prune() {
      long point = commitPoint(Set.of());
      done.headSet(next < 0 ? point : Math.min(point, next), false).clear();
    }
  }

  /**
   * A partition was assigned (or rewound): it restarts from its committed offset, and the offsets
   * its metadata names are done. {@code committed} null: nothing committed yet.
   */
  public synchronized void assign(TopicPartition tp, OffsetAndMetadata committed) {
    Part p = new Part();
    if (committed != null) {
      p.next = committed.offset();
      p.done.addAll(decode(committed));
    }
    parts.put(tp, p);
  }

  /** The partitions left this worker: forget them. */
  public synchronized void revoke(Collection<TopicPartition> gone) {
    gone.forEach(parts::remove);
  }

  /** A record was polled. False when it is done already (a commit's metadata named it): skip it. */
  public synchronized boolean polled(TopicPartition tp, long offset) {
    Part p = parts.computeIfAbsent(tp, k -> new Part());
    if (p.done.contains(offset)) {
      p.next = Math.max(p.next, offset + 1);
      return false;
    }
    p.undone.add(offset);
    p.next = Math.max(p.next, offset + 1);
    return true;
  }

  /** Whether a record may run now: within {@link #MAX_SPAN} of its partition's lowest undone. */
  public synchronized boolean withinSpan(TopicPartition tp, long offset) {
    Part p = parts.get(tp);
    return p == null || p.undone.isEmpty() || offset - p.undone.first() <= MAX_SPAN;
  }

  /**
   * The offsets to commit with these records' results, for each of their partitions: the lowest
   * offset not done were they done, with the done offsets beyond it in the metadata. Changes
   * nothing: {@link #completed} does, once the transaction committed.
   */
  public synchronized Map<TopicPartition, OffsetAndMetadata> commitFor(
      List<? extends ConsumerRecord<?, ?>> records) {
    Map<TopicPartition, Set<Long>> batch = byPartition(records);
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    batch.forEach(
        (tp, offsets) -> {
          Part p = parts.computeIfAbsent(tp, k -> new Part());
          long point = p.commitPoint(offsets);
          if (point < 0) { // never polled through the ledger: after the batch's last record
            point = offsets.stream().mapToLong(Long::longValue).max().orElseThrow() + 1;
          }
          NavigableSet<Long> beyond = new TreeSet<>(p.done.tailSet(point, false));
          for (long o : offsets) {
            if (o > point) {
              beyond.add(o);
            }
          }
          out.put(tp, new OffsetAndMetadata(point, encode(point, beyond)));
        });
    return out;
  }

  /** These records' transaction committed: they are done. */
  public synchronized void completed(List<? extends ConsumerRecord<?, ?>> records) {
    byPartition(records)
        .forEach(
            (tp, offsets) -> {
              Part p = parts.get(tp);
              if (p == null) {
                return; // revoked meanwhile: its new owner reads the committed state
              }
              for (long o : offsets) {
                if (p.undone.remove(o)) {
                  p.done.add(o);
                }
              }
              p.prune();
            });
  }

  /** The offset a commit of this partition would name now; -1 when unknown. For tests. */
  public synchronized long commitPoint(TopicPartition tp) {
    Part p = parts.get(tp);
    return p == null ? -1 : p.commitPoint(Set.of());
  }

  private static Map<TopicPartition, Set<Long>> byPartition(
      List<? extends ConsumerRecord<?, ?>> records) {
    Map<TopicPartition, Set<Long>> out = new HashMap<>();
    for (ConsumerRecord<?, ?> r : records) {
      out.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new TreeSet<>())
          .add(r.offset());
    }
    return out;
  }

  /** The metadata naming the done offsets beyond {@code committed}; "" when there are none. */
  static String encode(long committed, Collection<Long> doneBeyond) {
    if (doneBeyond.isEmpty()) {
      return "";
    }
    BitSet bits = new BitSet();
    for (long o : doneBeyond) {
      long i = o - committed - 1;
      if (i < 0 || i > Integer.MAX_VALUE - 1) {
        throw new IllegalStateException("offset " + o + " is not beyond " + committed);
      }
      bits.set((int) i);
    }
    String metadata =
        PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bits.toByteArray());
    if (metadata.length() > MAX_METADATA_CHARS) { // withinSpan keeps ours far below it
      throw new IllegalStateException(
          "the done offsets beyond " + committed + " need " + metadata.length() + " characters");
    }
    return metadata;
  }

  /** The done offsets a committed offset's metadata names; none for another format or none. */
  static Set<Long> decode(OffsetAndMetadata committed) {
    String m = committed.metadata();
    Set<Long> out = new TreeSet<>();
    if (m == null || !m.startsWith(PREFIX)) {
      return out;
    }
    BitSet bits;
    try {
      bits = BitSet.valueOf(Base64.getUrlDecoder().decode(m.substring(PREFIX.length())));
    } catch (IllegalArgumentException e) {
      return out; // not ours after all: redo rather than skip what we cannot read
    }
    for (int i = bits.nextSetBit(0); i >= 0; i = bits.nextSetBit(i + 1)) {
      out.add(committed.offset() + 1 + i);
    }
    return out;
  }
}
