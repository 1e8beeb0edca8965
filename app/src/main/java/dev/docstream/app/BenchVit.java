package dev.docstream.app;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.app.Bench.Figure;
import dev.docstream.app.Bench.Ratio;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.LoraLinear;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.RandomWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code docstream bench --model vit-b} (or {@code vit-s}): merge and forward costs of the
 * extraction model's design at ViT scale, random base weights and random rank-64 adapters on every
 * linear layer, built in memory. Side by side in one run: base, merged and unmerged forward latency
 * (batch 1 and 32, timed in rotation), the swap with each {@link MergeEngine.Kernel} and with
 * subtract-the-delta, the memory bandwidth of a large array copy and the swap's bound from it.
 */
public final class BenchVit {
  /** What one run measured. */
  public record Report(
      String machine,
      String model,
      String shape,
      long parameters,
      long adaptedWeightBytes,
      int rank,
      int reps,
      List<Figure> figures,
      List<Ratio> ratios) {}

  private static final int RANK = 64;

  private BenchVit() {}

  /** Runs every measurement and writes {@code bench-<model>.json} and {@code .md} into out. */
  public static Report run(String modelName, int reps, long seed, Path out) throws IOException {
    ModelConfig config = ModelConfig.named(modelName);
    progress("building " + modelName + " with random weights: " + config);
    List<Figure> figures = new ArrayList<>();
    List<Ratio> ratios = new ArrayList<>();
    Report report;
    try (Extractor extractor = RandomWeights.extractor(config, seed);
        LoadedAdapter a = adapter(extractor, "A", seed + 1);
        LoadedAdapter b = adapter(extractor, "B", seed + 2)) {
      long adaptedBytes = 0;
      for (LoraLinear l : extractor.block().linears().values()) {
        adaptedBytes += 4L * l.inFeatures() * l.outFeatures();
      }
      double bandwidth = bandwidth(extractor, Math.max(adaptedBytes, 256L << 20));
      double boundMs = 2.0 * adaptedBytes / bandwidth * 1000;
      figures.add(
          new Figure("memory bandwidth (array copy)", "GB/s", bandwidth / 1e9, bandwidth / 1e9));
      figures.add(
          new Figure("swap bound: 2 x adapted weights / bandwidth", "ms", boundMs, boundMs));
      Rounds f1;
      Rounds f32;
      try (MergeEngine merge =
          new MergeEngine(
              extractor.block().linears(),
              MergeEngine.RestoreMode.EXACT,
              MergeEngine.Kernel.FUSED)) {
        f1 = forwards(extractor, merge, a, b, RandomWeights.pixels(config, 1, seed), 1, reps * 3);
        f32 =
            forwards(extractor, merge, a, b, RandomWeights.pixels(config, 32, seed), 32, reps + 2);
        merge.restoreBase();
      }
      figures.addAll(f1.figures());
      figures.addAll(f32.figures());

      figures.add(load(extractor, seed));

      List<Figure> swaps = new ArrayList<>();
      for (MergeEngine.Kernel kernel : MergeEngine.Kernel.values()) {
        swaps.add(swap(extractor, a, b, MergeEngine.RestoreMode.EXACT, kernel, reps));
      }
      swaps.add(
          swap(extractor, a, b, MergeEngine.RestoreMode.SUBTRACT, MergeEngine.Kernel.FUSED, reps));
      figures.addAll(swaps);
      // The engine's modes on a backlog over 200 types: fewer jobs at ViT scale (a pass of one
      // image there takes about 0.3 s on 2 cores).
      boolean big = config.dim() > 256;
      List<Figure> modes =
          BenchModes.run(extractor, RANK, big ? 64 : 512, big ? 1 : Math.min(3, reps), seed + 4);
      figures.addAll(modes);
      Figure copyThenAdd = swaps.get(0);
      Figure fused = swaps.get(1);
      Figure stacked = swaps.get(2);
      Figure best = fused; // the engine's kernel (MergeEngine's default), whatever else won

      // Forward ratios are medians of each round's own ratio: the three passes of a round run
      // back to back, so drift on a shared machine cancels out of them.
      ratios.add(
          Bench.ratio(
              "merged / base latency, batch 32", paired(f32, 1, 0), "<= 1.02", v -> v <= 1.02));
      ratios.add(
          Bench.ratio(
              "merged / base latency, batch 1", paired(f1, 1, 0), "<= 1.02", v -> v <= 1.02));
      ratios.add(
          Bench.ratio(
              "unmerged / merged latency, batch 32",
              paired(f32, 2, 1),
              "(seeds: ~1.8 for a ViT)",
              v -> true));
      ratios.add(
          Bench.ratio(
              "unmerged / merged latency, batch 1",
              paired(f1, 2, 1),
              "(seeds: ~1.8 for a ViT)",
              v -> true));
      ratios.add(
          Bench.ratio(
              "per-sample adapters (mixed batch) / merged latency, batch 32",
              paired(f32, 3, 1),
              "(what a mixed batch costs)",
              v -> true));
      ratios.add(
          Bench.ratio(
              "swap (" + best.name() + ") / batched forward (32)",
              best.median() / f32.figures().get(1).median(),
              "<= 0.5",
              v -> v <= 0.5));
      ratios.add(
          Bench.ratio(
              "swap (" + best.name() + ") / bandwidth bound",
              best.median() / boundMs,
              "<= 4",
              v -> v <= 4));
      ratios.add(
          Bench.ratio(
              "engine throughput, hybrid / best of merged and unmerged",
              modes.get(2).median() / Math.max(modes.get(0).median(), modes.get(1).median()),
              "(> 1: the hybrid wins)",
              v -> v > 1));
      ratios.add(
          Bench.ratio(
              "swap copy-then-add / fused (what fusing bought)",
              copyThenAdd.median() / fused.median(),
              "(> 1: fusing pays)",
              v -> v > 1));
      ratios.add(
          Bench.ratio(
              "swap fused / stacked (what stacking bought)",
              fused.median() / stacked.median(),
              "(> 1: stacking pays)",
              v -> v > 1));
      report =
          new Report(
              Bench.machine(),
              modelName,
              config.toString(),
              RandomWeights.parameters(extractor),
              adaptedBytes,
              RANK,
              reps,
              figures,
              ratios);
    }
    write(report, out);
    return report;
  }

  private static LoadedAdapter adapter(Extractor extractor, String type, long seed) {
    return new LoadedAdapter(
        type,
        RandomWeights.adapter(extractor.block(), type, "random", RANK, 0.02f, seed),
        extractor.manager());
  }

  /**
   * Reading an adapter that is not in the cache: its PEFT files from disk (page cache warm, as for
   * an adapter read recently) into the model's memory, validated.
   */
  private static Figure load(Extractor extractor, long seed) throws IOException {
    progress("adapter load (read PEFT files + upload)");
    Path dir = Files.createTempDirectory("docstream-bench-adapter");
    try {
      PeftAdapter written =
          RandomWeights.adapter(extractor.block(), "L", "random", RANK, 0.02f, seed + 3);
      written.write(dir);
      var shapes = extractor.block().moduleShapes();
      return Bench.measure(
          "adapter load (read PEFT files + upload)",
          "ms",
          1,
          5,
          () -> {
            long t0 = System.nanoTime();
            try (LoadedAdapter l =
                new LoadedAdapter(
                    "L", PeftAdapter.read(dir, "random", shapes), extractor.manager())) {
              return System.nanoTime() - t0;
            } catch (dev.docstream.adapters.AdapterFormatException e) {
              throw new IllegalStateException("reading the adapter just written failed", e);
            }
          });
    } finally {
      EmbeddedStack.deleteRecursively(dir);
    }
  }

  /** Bytes per second of one large array copy (read + write), best of five. */
  private static double bandwidth(Extractor extractor, long bytes) {
    progress("memory bandwidth: copying " + (bytes >> 20) + " MiB");
    try (var m = extractor.manager().newSubManager()) {
      NDArray big = m.ones(new Shape(bytes / 4));
      double best = Double.MAX_VALUE;
      for (int i = 0; i < 6; i++) {
        long t0 = System.nanoTime();
        NDArray copy = big.duplicate();
        copy.getFloat(0); // the copy is done before the clock stops
        long nanos = System.nanoTime() - t0;
        copy.close();
        if (i > 0) {
          best = Math.min(best, nanos);
        }
      }
      return 2.0 * bytes / (best / 1e9);
    }
  }

  /**
   * The forward figures of one batch size and each round's times (base, merged, unmerged, per
   * sample).
   */
  private record Rounds(List<Figure> figures, List<double[]> times) {}

  /** Median over rounds of the round's time in column a over its time in column b. */
  private static double paired(Rounds r, int a, int b) {
    double[] v = r.times().stream().mapToDouble(t -> t[a] / t[b]).sorted().toArray();
    return v[v.length / 2];
  }

  /**
   * Base, merged, unmerged and per-sample-unmerged forward passes, timed in rotation; one warm-up
   * round.
   */
  private static Rounds forwards(
      Extractor extractor,
      MergeEngine merge,
      LoadedAdapter a,
      LoadedAdapter b,
      float[] px,
      int n,
      int reps) {
    List<double[]> rounds = new ArrayList<>();
    for (int rep = -1; rep < reps; rep++) {
      progress("forward passes, batch " + n + ": round " + (rep + 2) + " of " + (reps + 1));
      // Each timed pass follows a write of the weights (a swap), so none of the three runs on
      // weights that are warmer in the caches than the others'.
      double[] t = new double[4];
      merge.merge(b);
      merge.restoreBase();
      t[0] = Bench.time(() -> extractor.logits(px, n)) / 1e6;
      merge.merge(a);
      t[1] = Bench.time(() -> extractor.logits(px, n)) / 1e6;
      merge.restoreBase();
      merge.attachUnmerged(a);
      t[2] = Bench.time(() -> extractor.logits(px, n)) / 1e6;
      merge.detachUnmerged();
      // Every sample its own adapter (here a and b in turn), gathered for batched matmuls; the
      // gather is part of the cost.
      List<LoadedAdapter> perSample = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        perSample.add(i % 2 == 0 ? a : b);
      }
      t[3] =
          Bench.time(
                  () -> {
                    try (var mixed = merge.attachPerSample(perSample)) {
                      extractor.logits(px, n);
                    }
                  })
              / 1e6;
      if (rep >= 0) {
        rounds.add(t);
      }
    }
    return new Rounds(
        List.of(
            Bench.summarise("forward, batch " + n + ", base model", rounds, 0),
            Bench.summarise("forward, batch " + n + ", adapter merged", rounds, 1),
            Bench.summarise(
                "forward, batch " + n + ", adapter unmerged (W x + s B A x)", rounds, 2),
            Bench.summarise(
                "forward, batch " + n + ", per-sample adapters unmerged (gathered, batched matmul)",
                rounds,
                3)),
        rounds);
  }

  private static Figure swap(
      Extractor extractor,
      LoadedAdapter a,
      LoadedAdapter b,
      MergeEngine.RestoreMode mode,
      MergeEngine.Kernel kernel,
      int reps) {
    String name =
        mode == MergeEngine.RestoreMode.SUBTRACT
            ? "swap, subtract the delta + merge"
            : "swap, exact restore + merge, " + kernel.name().toLowerCase().replace('_', '-');
    progress(name);
    try (MergeEngine merge = new MergeEngine(extractor.block().linears(), mode, kernel)) {
      boolean[] flip = {false};
      Figure f =
          Bench.measure(
              name,
              "ms",
              2,
              Math.max(4, reps * 4),
              () -> {
                long t0 = System.nanoTime();
                flip[0] = !flip[0];
                merge.merge(flip[0] ? a : b);
                return System.nanoTime() - t0;
              });
      merge.restoreBase();
      return f;
    }
  }

  private static void progress(String what) {
    System.err.println("bench: " + what + " ...");
  }

  static void write(Report r, Path out) throws IOException {
    Files.createDirectories(out);
    String stem = "bench-" + r.model();
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(out.resolve(stem + ".json").toFile(), r);
    StringBuilder md = new StringBuilder();
    md.append(
        String.format(
            "Machine: %s; model %s %s, %.1f M parameters, adapted weights %.0f MiB, random rank-%d"
                + " adapters on every linear layer; %d repetitions (warm-up excluded).%n%n"
                + "| measurement | best | median | unit |%n| --- | ---: | ---: | --- |%n",
            r.machine(),
            r.model(),
            r.shape(),
            r.parameters() / 1e6,
            r.adaptedWeightBytes() / 1048576.0,
            r.rank(),
            r.reps()));
    Bench.tables(
        md,
        r.figures(),
        r.ratios(),
        "ratio (medians; forward ratios: median of the rounds' own ratios)",
        x -> x.target().startsWith("(seeds") || x.target().startsWith("(what"));
    Files.writeString(out.resolve(stem + ".md"), md.toString());
  }
}
