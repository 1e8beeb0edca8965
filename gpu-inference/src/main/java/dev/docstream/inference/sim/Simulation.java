package dev.docstream.inference.sim;

import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.inference.engine.internal.GroupPlanner;
import dev.docstream.inference.worker.internal.AdapterScheduler;
import dev.docstream.inference.worker.internal.PollLoop;
import dev.docstream.schemas.ExtractionRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A discrete-event simulation of DocStream's workers on simulated arrivals, in simulated time. It
 * drives the worker's own scheduling code, not a copy of it: each worker's {@link AdapterScheduler}
 * picks the next batch as the poll loop does (per-type queues, full micro-batches or the max batch
 * delay, {@code batchRecords} at most; the merged adapter it is told of is the one left by the
 * batch before the last, as the worker decodes one batch ahead), and the {@link GroupPlanner}
 * orders the batch into adapter groups as the engine does; the partitions are assigned by Kafka's
 * {@code CooperativeStickyAssignor} ({@link Assignment}). Only the model is replaced, by the {@link
 * Costs} of a forward pass, a swap and an adapter load.
 *
 * <p>Time a worker is free it has polled everything that arrived on its partitions (the real poll
 * loop polls while a batch runs). A job's queueing delay is from its arrival to the start of the
 * forward pass that serves it; its latency is to the end of its batch (one transaction commits the
 * whole batch).
 */
public final class Simulation {
  /** How adapters are applied. */
  public enum Policy {
    /** Today's engine: each group's adapter merged into the weights, a swap between groups. */
    MERGED,
    /**
     * S-LoRA/Punica style: never merge; mixed micro-batches, every sample {@code W x + s B A x}.
     */
    UNMERGED,
    /**
     * dLoRA style, as the engine's HYBRID mode: groups of at least {@code hybridMinGroup} requests
     * (and the merged adapter's) run merged; the rare ones, pooled, run unmerged in mixed
     * micro-batches on the restored base weights (one swap).
     */
    HYBRID
  }

  /**
   * A worker's scheduling settings, as its config names them.
   *
   * @param batchRecords {@code worker.poll.max.records}: records per batch of work
   * @param microBatch {@code inference.batch.max.size}: images per forward pass
   * @param cacheAdapters adapters the cache holds (the real cache is bounded in bytes)
   * @param hybridMinGroup with {@link Policy#HYBRID}: the smallest group that is merged
   * @param maxBatchDelayMs {@code worker.batch.max.delay.ms}
   */
  public record Settings(
      int batchRecords,
      int microBatch,
      int cacheAdapters,
      Policy policy,
      int hybridMinGroup,
      double maxBatchDelayMs) {
    /** The worker's defaults, merged policy, a cache of {@code cacheAdapters}. */
    public static Settings defaults(int cacheAdapters) {
      return new Settings(256, 32, cacheAdapters, Policy.MERGED, 8, 50);
    }

    public Settings withPolicy(Policy p) {
      return new Settings(
          batchRecords, microBatch, cacheAdapters, p, hybridMinGroup, maxBatchDelayMs);
    }

    public Settings withMaxBatchDelayMs(double ms) {
      return new Settings(batchRecords, microBatch, cacheAdapters, policy, hybridMinGroup, ms);
    }
  }

  /** What a run measured. */
  public record Result(
      long jobs,
      long swaps,
      long cacheLookups,
      long cacheHits,
      double utilisation,
      double maxUtilisation,
      double p50QueueMs,
      double p95QueueMs,
      double p99QueueMs,
      double p95LatencyMs,
      double durationMs) {
    public double swapsPer1000() {
      return jobs == 0 ? 0 : 1000.0 * swaps / jobs;
    }

    public double cacheHitRate() {
      return cacheLookups == 0 ? 1 : (double) cacheHits / cacheLookups;
    }
  }

  private Simulation() {}

  /**
   * Runs {@code jobs} through {@code workers} workers on {@code partitions} partitions.
   *
   * @param jobs arrivals in time order ({@link Arrivals#generate})
   */
  public static Result run(
      List<Arrivals.Job> jobs, int partitions, int workers, Settings settings, Costs costs) {
    Map<Integer, Integer> owner = Assignment.cooperativeSticky(partitions, workers);
    List<List<Arrivals.Job>> perWorker = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      perWorker.add(new ArrayList<>());
    }
    for (Arrivals.Job j : jobs) {
      perWorker.get(owner.get(j.partition())).add(j);
    }
    double end = jobs.isEmpty() ? 0 : jobs.get(jobs.size() - 1).atMs();
    List<Double> queue = new ArrayList<>();
    List<Double> latency = new ArrayList<>();
    long swaps = 0;
    long lookups = 0;
    long hits = 0;
    List<Worker> done = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      Worker worker = new Worker(settings, costs);
      worker.run(perWorker.get(w));
      queue.addAll(worker.queueMs);
      latency.addAll(worker.latencyMs);
      swaps += worker.swaps;
      lookups += worker.lookups;
      hits += worker.hits;
      end = Math.max(end, worker.now);
      done.add(worker);
    }
    double duration = end;
    double busySum = 0;
    double busyMax = 0;
    for (Worker worker : done) {
      double u = duration > 0 ? worker.busyMs / duration : 0;
      busySum += u;
      busyMax = Math.max(busyMax, u);
    }
    double[] q = queue.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    double[] l = latency.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new Result(
        jobs.size(),
        swaps,
        lookups,
        hits,
        busySum / workers,
        busyMax,
        quantile(q, 0.50),
        quantile(q, 0.95),
        quantile(q, 0.99),
        quantile(l, 0.95),
        duration);
  }

  private static double quantile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }

  /** One worker: its buffer, the planner, the merged adapter, its cache; in simulated time. */
  static final class Worker {
    private final Settings settings;
    private final Costs costs;
    private final AdapterScheduler<ExtractionRequest> queues;
    private final Map<ExtractionRequest, Arrivals.Job> jobOf = new java.util.IdentityHashMap<>();
    private final LinkedHashMap<String, Boolean> cache = new LinkedHashMap<>(16, 0.75f, true);
    final List<Double> queueMs = new ArrayList<>();
    final List<Double> latencyMs = new ArrayList<>();
    String merged;
    long swaps;
    long lookups;
    long hits;
    double now;
    double busyMs;

    Worker(Settings settings, Costs costs) {
      this.settings = settings;
      this.costs = costs;
      this.queues =
          new AdapterScheduler<>(settings.microBatch(), (long) (settings.maxBatchDelayMs() * 1e6));
    }

    void run(List<Arrivals.Job> jobs) {
      int next = 0;
      String hint = null; // the merged adapter the scheduler is told of: one batch behind
      while (next < jobs.size() || !queues.isEmpty()) {
        if (queues.isEmpty() && jobs.get(next).atMs() > now) {
          now = jobs.get(next).atMs(); // idle until the next arrival
        }
        next = poll(jobs, next);
        List<ExtractionRequest> batch =
            queues.next(settings.batchRecords(), hint, (long) (now * 1e6), r -> true);
        if (batch.isEmpty()) { // idle until a queue may run or more arrive
          double ready = now + queues.nanosUntilReady((long) (now * 1e6)) / 1e6 + 1e-6;
          double arrival = next < jobs.size() ? jobs.get(next).atMs() : Double.MAX_VALUE;
          now = Math.max(now, Math.min(ready, arrival));
          continue;
        }
        hint = merged;
        double started = now;
        List<ExtractionRequest> served = runBatch(batch);
        busyMs += now - started;
        for (ExtractionRequest r : served) {
          latencyMs.add(now - jobOf.remove(r).atMs());
        }
      }
    }

    /** Everything that arrived by now is queued, keyed by type as the poll loop does. */
    private int poll(List<Arrivals.Job> jobs, int next) {
      while (next < jobs.size() && jobs.get(next).atMs() <= now) {
        Arrivals.Job j = jobs.get(next++);
        queues.add(PollLoop.adapterOf(j.key()), j.request(), (long) (now * 1e6));
        jobOf.put(j.request(), j);
      }
      return next;
    }

    /** One batch, as the engine runs it; returns the requests in the order they were served. */
    List<ExtractionRequest> runBatch(List<ExtractionRequest> batch) {
      if (settings.policy() == Policy.UNMERGED) {
        for (int from = 0; from < batch.size(); from += settings.microBatch()) {
          List<ExtractionRequest> mb =
              batch.subList(from, Math.min(batch.size(), from + settings.microBatch()));
          mb.stream().map(ExtractionRequest::getDocumentType).distinct().forEach(this::lookup);
          forward(mb, mb.size());
        }
        return batch;
      }
      List<GroupPlanner.Group> groups =
          GroupPlanner.plan(batch, r -> AdapterStore.Route.of(r.getDocumentType()), merged);
      List<ExtractionRequest> served = new ArrayList<>(batch.size());
      GroupPlanner.Split split =
          GroupPlanner.split(
              groups, settings.policy() == Policy.HYBRID ? settings.hybridMinGroup() : 0, merged);
      for (GroupPlanner.Group g : split.merged()) {
        lookup(g.route().key());
        if (!g.route().key().equals(merged)) {
          merged = g.route().key();
          swaps++;
          now += costs.swapMs();
        }
        for (int from = 0; from < g.requests().size(); from += settings.microBatch()) {
          List<ExtractionRequest> mb =
              g.requests()
                  .subList(from, Math.min(g.requests().size(), from + settings.microBatch()));
          forward(mb, 0);
          served.addAll(mb);
        }
      }
      List<ExtractionRequest> pool = new ArrayList<>();
      for (GroupPlanner.Group g : split.small()) { // as the engine: pooled, mixed micro-batches
        lookup(g.route().key());
        pool.addAll(g.requests());
      }
      if (!pool.isEmpty() && merged != null) {
        merged = null; // the engine restores the base weights for a mixed batch: one swap
        swaps++;
        now += costs.swapMs();
      }
      for (int from = 0; from < pool.size(); from += settings.microBatch()) {
        List<ExtractionRequest> mb =
            pool.subList(from, Math.min(pool.size(), from + settings.microBatch()));
        forward(mb, mb.size());
        served.addAll(mb);
      }
      return served;
    }

    /**
     * One forward pass of which {@code unmerged} samples run their own adapter unmerged in a mixed
     * batch: they cost (factor - 1) of a merged pass each on top.
     */
    private void forward(List<ExtractionRequest> mb, int unmerged) {
      for (ExtractionRequest r : mb) {
        queueMs.add(now - jobOf.get(r).atMs());
      }
      double t = costs.forwardMs(mb.size());
      now += t + (costs.unmergedFactor() - 1) * t * unmerged / mb.size();
    }

    private void lookup(String adapter) {
      lookups++;
      if (cache.get(adapter) != null) {
        hits++;
        return;
      }
      now += costs.loadMs();
      cache.put(adapter, Boolean.TRUE);
      // Least recently used first; the merged adapter and the one just loaded are pinned.
      var it = cache.keySet().iterator();
      while (cache.size() > settings.cacheAdapters() && it.hasNext()) {
        String eldest = it.next();
        if (!eldest.equals(merged) && !eldest.equals(adapter)) {
          it.remove();
        }
      }
    }
  }
}
