package dev.docstream.inference.worker.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Polled work waiting for the model, one queue per adapter (per document type), and the choice of
 * what runs next, across polls: a queue may run when it holds a full micro-batch or when its oldest
 * item has waited the max batch delay (it is due). Due queues go before full ones, so that no
 * adapter waits much past its max delay behind busier ones; within each of the two, the merged
 * adapter's queue goes first (no swap), then the others by credit: the share of a micro-batch they
 * hold plus their oldest item's wait in units of the max delay (dLoRA's credit-based batching;
 * djl-serving's max batch delay). Once a due queue has waited twice the max delay, the merged
 * adapter loses its place among the due ones and credit alone orders them: under a backlog every
 * queue is due, the oldest and fullest go first, and none starves behind a hot merged adapter.
 *
 * <p>Kafka-free and clock-free (times are passed in), so that it is tested alone. Owned by one
 * thread (the worker's polling thread); not thread-safe.
 *
 * @param <T> an item (a polled record)
 */
public final class AdapterScheduler<T> {
  private final int microBatch;
  private final long maxDelayNanos;
  private final Map<String, ArrayDeque<Waiting<T>>> queues = new LinkedHashMap<>();
  private int size;

  private record Waiting<T>(T item, long since) {}

  /**
   * @param microBatch images per forward pass: a queue this long runs without waiting
   * @param maxDelayNanos the longest an item waits for its micro-batch to fill; 0: never waits
   */
  public AdapterScheduler(int microBatch, long maxDelayNanos) {
    if (microBatch < 1 || maxDelayNanos < 0) {
      throw new IllegalArgumentException(
          "microBatch must be >= 1 and maxDelayNanos >= 0, got "
              + microBatch
              + ", "
              + maxDelayNanos);
    }
    this.microBatch = microBatch;
    this.maxDelayNanos = maxDelayNanos;
  }

  /** Queues an item of an adapter (document type) that arrived at {@code now}. */
  public void add(String adapter, T item, long now) {
    queues.computeIfAbsent(adapter, k -> new ArrayDeque<>()).add(new Waiting<>(item, now));
    size++;
  }

  /**
   * Removes and returns what runs next, at most {@code capacity} items: the queues that may run, in
   * the order described above; a queue that is full but not due gives whole micro-batches only; an
   * item {@code runnable} refuses stays queued, in its place. Empty when no queue may run yet.
   *
   * @param merged the adapter merged now, or null
   */
  public List<T> next(int capacity, String merged, long now, Predicate<T> runnable) {
    List<String> ready = new ArrayList<>();
    for (Map.Entry<String, ArrayDeque<Waiting<T>>> q : queues.entrySet()) {
      if (mayRun(q.getValue(), now)) {
        ready.add(q.getKey());
      }
    }
    // The merged adapter goes first in its tier, unless another due queue has waited twice the
    // max delay: then due queues go by credit alone, so an overload of the merged (hot) adapter
    // cannot keep the others waiting.
    boolean starving =
        ready.stream()
            .anyMatch(
                k -> !k.equals(merged) && now - queues.get(k).peek().since() >= 2 * maxDelayNanos);
    ready.sort(
        Comparator.comparing((String k) -> !due(queues.get(k), now))
            .thenComparing(k -> !k.equals(merged) || (starving && due(queues.get(k), now)))
            .thenComparing(k -> -credit(queues.get(k), now)));
    List<T> out = new ArrayList<>(Math.min(capacity, size));
    for (String key : ready) {
      int room = capacity - out.size();
      if (room <= 0) {
        break;
      }
      ArrayDeque<Waiting<T>> q = queues.get(key);
      int take = Math.min(q.size(), room);
      if (!due(q, now)) {
        take = take / microBatch * microBatch; // whole micro-batches only
        if (take == 0 && out.isEmpty()) {
          take = Math.min(q.size(), room);
        }
      }
      int taken = 0;
      for (Iterator<Waiting<T>> it = q.iterator(); it.hasNext() && taken < take; ) {
        Waiting<T> w = it.next();
        if (runnable.test(w.item())) {
          it.remove();
          out.add(w.item());
          taken++;
        }
      }
      size -= taken;
      if (q.isEmpty()) {
        queues.remove(key);
      }
    }
    return out;
  }

  /** Nanoseconds from {@code now} until a queue may run: 0 if one may now, -1 if none waits. */
  public long nanosUntilReady(long now) {
    long best = -1;
    for (ArrayDeque<Waiting<T>> q : queues.values()) {
      if (mayRun(q, now)) {
        return 0;
      }
      long wait = q.peek().since() + maxDelayNanos - now;
      best = best < 0 ? wait : Math.min(best, wait);
    }
    return best;
  }

  /** Forgets the items {@code gone} selects (their partitions were revoked or rewound). */
  public void removeIf(Predicate<T> gone) {
    for (Iterator<ArrayDeque<Waiting<T>>> qs = queues.values().iterator(); qs.hasNext(); ) {
      ArrayDeque<Waiting<T>> q = qs.next();
      int before = q.size();
      q.removeIf(w -> gone.test(w.item()));
      size -= before - q.size();
      if (q.isEmpty()) {
        qs.remove();
      }
    }
  }

  /** Items waiting. */
  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** Queues (adapters) waiting. */
  public int queues() {
    return queues.size();
  }

  private boolean mayRun(ArrayDeque<Waiting<T>> q, long now) {
    return q.size() >= microBatch || due(q, now);
  }

  private boolean due(ArrayDeque<Waiting<T>> q, long now) {
    return now - q.peek().since() >= maxDelayNanos;
  }

  /** The share of a micro-batch held (at most 1) plus the oldest item's wait in max delays. */
  private double credit(ArrayDeque<Waiting<T>> q, long now) {
    double wait = (now - q.peek().since()) / (double) Math.max(1, maxDelayNanos);
    return Math.min(1.0, q.size() / (double) microBatch) + wait;
  }
}
