package dev.docstream.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.docstream.inference.sim.Arrivals;
import dev.docstream.inference.sim.Costs;
import dev.docstream.inference.sim.Simulation;
import dev.docstream.inference.sim.Simulation.Policy;
import dev.docstream.topology.intake.KeyShards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code docstream simulate}: the workers' real scheduler ({@link Simulation}) on simulated Zipf
 * traffic over many document types, for several (partitions, workers) pairs and adapter policies.
 * Writes simulate.json, simulate.md and simulate-p95.png (p95 queueing delay against load).
 */
public final class Simulate {
  /**
   * What to simulate.
   *
   * @param configs (partitions, workers) pairs
   * @param load the table's load: arrivals as a share of the workers' capacity at full
   *     micro-batches without swaps
   * @param loads the plot's loads
   */
  public record Options(
      int types,
      double zipf,
      int jobs,
      List<int[]> configs,
      double load,
      List<Double> loads,
      int cacheAdapters,
      int hotTypes,
      int hotShards,
      List<Policy> policies,
      long seed,
      Costs costs,
      String costsSource) {}

  /**
   * One simulated configuration.
   *
   * @param capacityPerSecond jobs per second the configuration serves at saturation (a backlog of
   *     the same traffic, merged policy); loads are shares of it
   */
  public record Row(
      int partitions,
      int workers,
      double capacityPerSecond,
      String policy,
      String traffic,
      double load,
      Simulation.Result result) {}

  /** Everything a run wrote. */
  public record Report(Options options, List<Row> table, List<Row> curve) {}

  private Simulate() {}

  /**
   * Reads a service-time model from a {@code docstream bench --part merge} report
   * (bench-&lt;model&gt;.json).
   */
  public static Costs costsFrom(Path benchJson) throws IOException {
    JsonNode root = new ObjectMapper().readTree(benchJson.toFile());
    double f1 = figure(root, "forward, batch 1, adapter merged");
    double f32 = figure(root, "forward, batch 32, adapter merged");
    // Unmerged and hybrid batches mix adapters: their cost is the per-sample (gathered) figure.
    double unmerged =
        figure(root, "forward, batch 32, per-sample adapters unmerged (gathered, batched matmul)")
            / f32;
    // The engine's kernel (MergeEngine's default), not the best one measured.
    double swap = figure(root, "swap, exact restore + merge, fused");
    double load = figure(root, "adapter load (read PEFT files + upload)");
    return new Costs(f1, Math.max(f1, f32), swap, load, Math.max(1, unmerged));
  }

  private static double figure(JsonNode root, String name) throws IOException {
    for (JsonNode f : root.path("figures")) {
      if (f.path("name").asText().equals(name)) {
        return f.path("median").asDouble();
      }
    }
    throw new IOException("bench report has no figure '" + name + "'");
  }

  /** Runs the table and the curves; writes the report files into out. */
  public static Report run(Options o, Path out) throws IOException {
    Simulation.Settings base = Simulation.Settings.defaults(o.cacheAdapters());
    List<Row> table = new ArrayList<>();
    List<Row> curve = new ArrayList<>();
    int total = o.configs().size() * (o.policies().size() + 1 + o.loads().size());
    int done = 0;
    for (int[] pw : o.configs()) {
      int p = pw[0];
      int w = pw[1];
      progress(done, total, p, w, "capacity (a backlog of the same traffic)");
      List<Arrivals.Job> backlog =
          Arrivals.generate(
              o.types(), o.zipf(), o.jobs(), Double.POSITIVE_INFINITY, p, 0, 1, o.seed());
      double capacity = o.jobs() / Simulation.run(backlog, p, w, base, o.costs()).durationMs();
      List<Arrivals.Job> jobs = arrivals(o, p, capacity * o.load(), 0);
      for (Policy policy : o.policies()) {
        progress(++done, total, p, w, policy + " at load " + o.load());
        table.add(
            new Row(
                p,
                w,
                capacity * 1000,
                policy.name(),
                "zipf",
                o.load(),
                Simulation.run(jobs, p, w, base.withPolicy(policy), o.costs())));
      }
      if (o.hotTypes() > 0 && o.hotShards() > 1) {
        progress(++done, total, p, w, "hot types spread");
        List<Arrivals.Job> spread = arrivals(o, p, capacity * o.load(), o.hotTypes());
        table.add(
            new Row(
                p,
                w,
                capacity * 1000,
                Policy.MERGED.name(),
                "top " + o.hotTypes() + " types over " + o.hotShards() + " keys",
                o.load(),
                Simulation.run(spread, p, w, base, o.costs())));
      } else {
        done++;
      }
      for (double load : o.loads()) {
        progress(++done, total, p, w, "curve, load " + load);
        List<Arrivals.Job> at = arrivals(o, p, capacity * load, 0);
        for (Policy policy : o.policies()) {
          curve.add(
              new Row(
                  p,
                  w,
                  capacity * 1000,
                  policy.name(),
                  "zipf",
                  load,
                  Simulation.run(at, p, w, base.withPolicy(policy), o.costs())));
        }
      }
    }
    Report report = new Report(o, table, curve);
    write(report, out);
    return report;
  }

  /** {@link KeyShards#suggest} for the Zipf rates of the simulated types; "none" when none. */
  static String suggestShards(Options o, double jobsPerSecond, double workerJobsPerSecond) {
    double h = 0;
    for (int k = 1; k <= o.types(); k++) {
      h += 1 / Math.pow(k, o.zipf());
    }
    Map<String, Double> rates = new java.util.HashMap<>();
    for (int k = 1; k <= o.types(); k++) {
      rates.put(Arrivals.typeName(k - 1), jobsPerSecond / Math.pow(k, o.zipf()) / h);
    }
    List<String> s = KeyShards.suggest(rates, workerJobsPerSecond, 0.7);
    return s.isEmpty() ? "none" : String.join(",", s);
  }

  private static List<Arrivals.Job> arrivals(Options o, int p, double ratePerMs, int hot) {
    return Arrivals.generate(
        o.types(), o.zipf(), o.jobs(), ratePerMs, p, hot, o.hotShards(), o.seed());
  }

  private static void progress(int done, int total, int p, int w, String what) {
    System.err.printf("simulate: [%d/%d] P=%d W=%d %s%n", done, total, p, w, what);
  }

  private static void write(Report r, Path out) throws IOException {
    Files.createDirectories(out);
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve("simulate.json").toFile(), r);
    Files.writeString(out.resolve("simulate.md"), markdown(r));
    SimulationPlot.write(r.curve(), out.resolve("simulate-p95.png"));
  }

  static String markdown(Report r) {
    Options o = r.options();
    Costs c = o.costs();
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            "%,d jobs over %,d document types (Zipf s=%.2f) at %.0f %% of each configuration's"
                + " capacity (jobs/s it serves from a backlog of the same traffic, merged policy);"
                + " worker defaults (batch 256 records, micro-batch 32, max batch delay 50 ms),"
                + " cache of %d adapters. Costs from %s: forward %.1f ms (1 image) to %.1f ms"
                + " (32), swap %.1f ms, adapter load %.1f ms, mixed batches x%.2f.%n%n",
            o.jobs(),
            o.types(),
            o.zipf(),
            o.load() * 100,
            o.cacheAdapters(),
            o.costsSource(),
            c.forward1Ms(),
            c.forward32Ms(),
            c.swapMs(),
            c.loadMs(),
            c.unmergedFactor()));
    md.append(
        "| P | W | capacity (jobs/s) | policy | traffic | swaps / 1000 jobs | utilisation (mean / max) |"
            + " queueing p50 / p95 / p99 (ms) | latency p95 (ms) | cache hit rate |\n"
            + "| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (Row row : r.table()) {
      Simulation.Result x = row.result();
      md.append(
          String.format(
              "| %d | %d | %.1f | %s | %s | %.1f | %.2f / %.2f | %.0f / %.0f / %.0f | %.0f | %.3f |%n",
              row.partitions(),
              row.workers(),
              row.capacityPerSecond(),
              row.policy().toLowerCase(),
              row.traffic(),
              x.swapsPer1000(),
              x.utilisation(),
              x.maxUtilisation(),
              x.p50QueueMs(),
              x.p95QueueMs(),
              x.p99QueueMs(),
              x.p95LatencyMs(),
              x.cacheHitRate()));
    }
    md.append(
        "\nSuggested key shards (`intake.hot.types`) at this load, from each type's Zipf rate"
            + " and one worker's share of the capacity, for at most 70 % busy per shard:\n\n");
    for (Row row : r.table()) {
      if (row.policy().equals(Policy.MERGED.name()) && row.traffic().equals("zipf")) {
        md.append(
            String.format(
                "- P=%d W=%d: %s%n",
                row.partitions(),
                row.workers(),
                suggestShards(
                    o,
                    row.capacityPerSecond() * o.load(),
                    row.capacityPerSecond() / row.workers())));
      }
    }
    md.append(
        "\n| P | W | hybrid / best of merged and unmerged, p95 queueing | p99 queueing |"
            + " p95 latency |\n| ---: | ---: | ---: | ---: | ---: |\n");
    for (int[] pw : o.configs()) {
      Simulation.Result merged = find(r, pw, Policy.MERGED);
      Simulation.Result unmerged = find(r, pw, Policy.UNMERGED);
      Simulation.Result hybrid = find(r, pw, Policy.HYBRID);
      if (merged == null || unmerged == null || hybrid == null) {
        continue;
      }
      md.append(
          String.format(
              "| %d | %d | %.2f | %.2f | %.2f |%n",
              pw[0],
              pw[1],
              hybrid.p95QueueMs()
                  / Math.max(1e-9, Math.min(merged.p95QueueMs(), unmerged.p95QueueMs())),
              hybrid.p99QueueMs()
                  / Math.max(1e-9, Math.min(merged.p99QueueMs(), unmerged.p99QueueMs())),
              hybrid.p95LatencyMs()
                  / Math.max(1e-9, Math.min(merged.p95LatencyMs(), unmerged.p95LatencyMs()))));
    }
    return md.toString();
  }

  private static Simulation.Result find(Report r, int[] pw, Policy policy) {
    return r.table().stream()
        .filter(
            row ->
                row.partitions() == pw[0]
                    && row.workers() == pw[1]
                    && row.policy().equals(policy.name())
                    && row.traffic().equals("zipf"))
        .map(Row::result)
        .findFirst()
        .orElse(null);
  }
}
