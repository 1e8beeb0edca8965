package dev.docstream.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.engine.EngineOptions;
import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.Priority;
import dev.docstream.training.synth.DocumentTypes;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * {@code docstream bench}: the design's numbers, measured side by side in one run on the same jobs
 * and machine. Fixed seeds; warm-up excluded; every figure is the min and median of several
 * repetitions, and ratios compare medians. Prints a table and writes bench.json and bench.md.
 */
public final class Bench {
  /**
   * One measured quantity over repetitions: its best (the least milliseconds, or the most images
   * per second) and its median.
   */
  public record Figure(String name, String unit, double best, double median) {}

  /**
   * One throughput run through Kafka with where its CPU went: per job, CPU milliseconds by thread
   * group ({@link CpuProfile}), the worker's milliseconds by stage, adapter swaps per 1,000 jobs,
   * and the time from a run's start to its first result (the fixed costs and the first batch); all
   * over the timed repetitions (the warm-up excluded).
   */
  public record Run(
      Figure figure,
      Map<String, Double> cpuMsPerJob,
      Map<String, Double> stageMsPerJob,
      double swapsPer1000,
      double firstResultMs,
      double jobsPerBatch) {}

  /** A ratio of two medians, with the design's target. */
  public record Ratio(String name, double value, String target, boolean met) {}

  /** Everything one run measured. */
  public record Report(
      String machine,
      int jobs,
      int reps,
      List<Figure> figures,
      List<Ratio> ratios,
      List<Run> runs) {}

  private Bench() {}

  /** Runs every measurement; {@code work} holds the extra random adapters and the brokers' data. */
  public static Report run(Path models, int jobCount, int reps, long seed, Path work, Path out)
      throws IOException, dev.docstream.adapters.AdapterFormatException {
    return run(models, jobCount, reps, seed, work, out, false, Map.of());
  }

  /**
   * @param throughputOnly only the model alone and the runs through Kafka (no forward, swap or
   *     naive figures)
   * @param worker more config keys for the worker of the runs through Kafka (the model alone always
   *     runs with the defaults)
   */
  public static Report run(
      Path models,
      int jobCount,
      int reps,
      long seed,
      Path work,
      Path out,
      boolean throughputOnly,
      Map<String, String> worker)
      throws IOException, dev.docstream.adapters.AdapterFormatException {
    Path base = models.resolve("base");
    Path shipped = models.resolve("adapters");
    String sha = ModelCheckpoint.checksum(base);
    List<String> shippedTypes =
        new ArrayList<>(new DirectoryAdapterStore(shipped, "", Map.of()).documentTypes());
    if (shippedTypes.isEmpty()) {
      throw new IllegalStateException("no adapters under " + shipped);
    }
    List<Figure> figures = new ArrayList<>();
    List<Ratio> ratios = new ArrayList<>();
    List<Run> runs = new ArrayList<>();
    Figure reference;
    double referenceCpuMs;
    Figure naive;
    int microBatch;
    Path fleet = work.resolve("adapters-200");
    EmbeddedStack.deleteRecursively(work);

    List<LoadGenerator.Job> jobs8 = LoadGenerator.generate(shippedTypes, jobCount, 1.1, 0, seed);
    List<ExtractionRequest> requests8 = requests(jobs8);
    List<BufferedImage> batch = new ArrayList<>();
    for (ExtractionRequest r : requests8.subList(0, 32)) {
      batch.add(BenchReference.decode(r));
    }

    try (Extractor extractor = Extractor.load(base);
        MergeEngine merge =
            new MergeEngine(
                extractor.freezeParameters().block().linears(), MergeEngine.RestoreMode.EXACT)) {
      List<String> extra =
          DocumentTypes.catalog().stream()
              .filter(t -> !shippedTypes.contains(t))
              .limit(200 - shippedTypes.size())
              .toList();
      BenchFleet.copyShipped(shipped, shippedTypes, fleet);
      BenchFleet.writeRandomAdapters(extractor, sha, extra, 16, fleet);
      Map<String, int[]> shapes = extractor.block().moduleShapes();
      LoadedAdapter a =
          new LoadedAdapter(
              shippedTypes.get(0),
              PeftAdapter.read(shipped.resolve(shippedTypes.get(0)), sha, shapes),
              extractor.manager());
      LoadedAdapter b =
          new LoadedAdapter(
              shippedTypes.get(1),
              PeftAdapter.read(shipped.resolve(shippedTypes.get(1)), sha, shapes),
              extractor.manager());
      float[] pixels = pixels(extractor, batch);
      // The micro-batch whose forward is fastest per image here serves every run below.
      microBatch = BenchReference.sweep(extractor, pixels, reps, figures);

      naive = null;
      if (!throughputOnly) {
        BenchForward.forwardAndSwap(extractor, merge, a, b, pixels, reps, figures, ratios);

        // Naive: per request in arrival order, restore the base, merge its adapter, run it alone.
        Map<String, LoadedAdapter> loaded = new HashMap<>();
        for (String t : shippedTypes) {
          loaded.put(
              t,
              new LoadedAdapter(
                  t, PeftAdapter.read(shipped.resolve(t), sha, shapes), extractor.manager()));
        }
        naive =
            throughput(
                "naive per-request toggling (unmerge, merge, batch of 1)",
                Math.max(1, reps / 2),
                requests8.size(),
                () -> {
                  for (ExtractionRequest r : requests8) {
                    merge.restoreBase();
                    merge.merge(loaded.get(r.getDocumentType()));
                    extractor.extract(List.of(BenchReference.decode(r)));
                  }
                });
        merge.restoreBase();
        loaded.values().forEach(LoadedAdapter::close);
        figures.add(naive);
      }

      // The model alone three ways in rotation; the fastest is the pipeline's reference.
      try (ExtractionEngine engine =
          new ExtractionEngine(
              extractor,
              new DirectoryAdapterStore(shipped, sha, shapes),
              EngineOptions.defaults("bench", "bench").withMicroBatch(microBatch),
              new ExtractionEngine.Listener() {},
              Clock.systemUTC())) {
        BenchReference.Result model =
            BenchReference.measure(extractor, a, requests8, engine, microBatch, reps);
        figures.addAll(model.figures());
        figures.addAll(model.cpuFigures());
        reference = model.best();
        referenceCpuMs = model.bestCpuMsPerImage();
        if (naive != null) {
          ratios.add(
              ratio(
                  "grouped (in process) / naive throughput",
                  model.grouped().median() / naive.median(),
                  ">= 5",
                  v -> v >= 5));
        }
      }
      a.close();
      b.close();
    }
    for (int types : new int[] {shippedTypes.size(), 200}) {
      Path adapters = types == 200 ? fleet : shipped;
      List<String> mix =
          new ArrayList<>(new DirectoryAdapterStore(adapters, "", Map.of()).documentTypes());
      List<LoadGenerator.Job> jobs =
          types == 200 ? LoadGenerator.generate(mix, jobCount, 1.1, 0, seed + 1) : jobs8;
      Run pipe =
          BenchPipeline.pipeline(
              models,
              adapters,
              jobs,
              reps,
              work.resolve("stack-" + types),
              types,
              microBatch,
              worker);
      figures.add(pipe.figure());
      runs.add(pipe);
      if (types == shippedTypes.size()) {
        Run workerOnly =
            BenchPipeline.workerOnly(
                models,
                adapters,
                requests8,
                reps,
                work.resolve("worker-" + types),
                microBatch,
                worker);
        figures.add(workerOnly.figure());
        runs.add(workerOnly);
        ratios.add(
            ratio(
                "worker through Kafka / model alone (fastest), " + types + " document types",
                workerOnly.figure().median() / reference.median(),
                ">= 0.90",
                v -> v >= 0.9));
      }
      ratios.add(
          ratio(
              "pipeline through Kafka / model alone (fastest), " + types + " document types",
              pipe.figure().median() / reference.median(),
              ">= 0.90",
              v -> v >= 0.9));
      ratios.add(
          ratio(
              "ceiling for that ratio on these cores, "
                  + types
                  + " types: model alone's CPU per"
                  + " image / (that + the pipeline's CPU per job outside the worker's model work)",
              referenceCpuMs / (referenceCpuMs + BenchPipeline.outsideModelMs(pipe)),
              "(informs)",
              v -> true));
      if (types == shippedTypes.size() && naive != null) {
        ratios.add(
            ratio(
                "grouped pipeline through Kafka / naive toggling",
                pipe.figure().median() / naive.median(),
                ">= 5",
                v -> v >= 5));
      }
    }
    Report report = new Report(machine(), jobCount, reps, figures, ratios, runs);
    write(report, out);
    return report;
  }

  /** Min and median of one column of timed rounds (milliseconds). */
  static Figure summarise(String name, List<double[]> rounds, int column) {
    double[] v = rounds.stream().mapToDouble(r -> r[column]).sorted().toArray();
    return new Figure(name, "ms", v[0], v[v.length / 2]);
  }

  static Figure measure(String name, String unit, int warmup, int reps, LongSupplier run) {
    for (int i = 0; i < warmup; i++) {
      run.getAsLong();
    }
    double[] v = new double[reps];
    for (int i = 0; i < reps; i++) {
      v[i] = run.getAsLong() / 1e6;
    }
    Arrays.sort(v);
    return new Figure(name, unit, v[0], v[reps / 2]);
  }

  /** Images per second of {@code work} over {@code items}; one warm-up run; min and median. */
  static Figure throughput(String name, int reps, int items, Runnable work) {
    System.err.println("bench: " + name + " ...");
    Figure t = measure(name, "ms", 1, Math.max(1, reps), () -> time(work));
    return new Figure(name, "images/s", items / (t.best() / 1000), items / (t.median() / 1000));
  }

  /** Nanoseconds {@code r} took. */
  static long time(Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return System.nanoTime() - t0;
  }

  static Ratio ratio(
      String name, double value, String target, java.util.function.DoublePredicate met) {
    return new Ratio(name, value, target, met.test(value));
  }

  private static float[] pixels(Extractor extractor, List<BufferedImage> images) {
    ImagePreprocessor pre = new ImagePreprocessor(extractor.block().config());
    float[] px = new float[images.size() * pre.inputSize()];
    for (int i = 0; i < images.size(); i++) {
      pre.toInput(images.get(i), px, i * pre.inputSize());
    }
    return px;
  }

  static List<ExtractionRequest> requests(List<LoadGenerator.Job> jobs) {
    List<ExtractionRequest> out = new ArrayList<>();
    for (LoadGenerator.Job j : jobs) {
      InlineImage image = (InlineImage) j.job().getImage();
      out.add(
          ExtractionRequest.newBuilder()
              .setJobId(j.jobId())
              .setTenantId("bench")
              .setDocumentType(j.documentType())
              .setImage(image.getData())
              .setImageSha256(image.getSha256())
              .setRequestedFields(List.of(DocumentField.values()))
              .setSubmittedAt(Instant.now())
              .setAcceptedAt(Instant.now())
              .setPriority(Priority.LIVE)
              .build());
    }
    return out;
  }

  static String machine() {
    return System.getProperty("os.name")
        + " "
        + System.getProperty("os.arch")
        + ", "
        + Runtime.getRuntime().availableProcessors()
        + " cores, Java "
        + System.getProperty("java.version")
        + ", PyTorch CPU, "
        + System.getProperty("ai.djl.pytorch.num_threads", "default")
        + " intra-op threads";
  }

  static void write(Report r, Path out) throws IOException {
    Files.createDirectories(out);
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    json.writeValue(out.resolve("bench.json").toFile(), r);
    StringBuilder md = new StringBuilder();
    md.append("Machine: ")
        .append(r.machine())
        .append("; ")
        .append(r.jobs())
        .append(" jobs, ")
        .append(r.reps())
        .append(
            " repetitions (warm-up excluded).\n\n| measurement | best | median | unit |\n| --- | ---: | ---: | --- |\n");
    tables(md, r.figures(), r.ratios(), "ratio (medians)", x -> x.target().equals("(informs)"));
    BenchPipeline.breakdown(md, r.runs());
    Files.writeString(out.resolve("bench.md"), md.toString());
  }

  /**
   * Appends the figures' table and the ratios' table in Markdown.
   *
   * @param note ratios that only inform (no target to meet): their "met" column shows "-"
   */
  static void tables(
      StringBuilder md,
      List<Figure> figures,
      List<Ratio> ratios,
      String ratioHeading,
      java.util.function.Predicate<Ratio> note) {
    for (Figure f : figures) {
      md.append(
          String.format("| %s | %.2f | %.2f | %s |%n", f.name(), f.best(), f.median(), f.unit()));
    }
    md.append("\n| " + ratioHeading + " | value | target | met |\n| --- | ---: | --- | --- |\n");
    for (Ratio x : ratios) {
      md.append(
          String.format(
              "| %s | %.3f | %s | %s |%n",
              x.name(), x.value(), x.target(), note.test(x) ? "-" : x.met() ? "yes" : "no"));
    }
  }
}
