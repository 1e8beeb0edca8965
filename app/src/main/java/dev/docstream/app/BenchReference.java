package dev.docstream.app;

import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ImagePreprocessor;
import dev.docstream.schemas.ExtractionRequest;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The model alone on the bench's images, three ways, timed in rotation within every repetition (so
 * that a shared machine's drift hits all three alike), at the micro-batch size whose forward pass
 * is fastest per image on this machine ({@link #sweep}): serial (decode, preprocess, forward,
 * read-out, on one thread), pipelined (the next batch decoded and preprocessed on a second thread
 * while the model runs, the read-out on a third), and the worker's grouped engine (no Kafka). The
 * reference for the pipeline is the fastest of the three: what the model alone does on this
 * machine. The serial and pipelined runs use the weights as the engine left them (an adapter
 * merged; merged weights cost the same whichever adapter it is) and one adapter's formats.
 */
final class BenchReference {

  /**
   * The three figures, in images per second, and this process's CPU milliseconds per image of each
   * (serial, pipelined, grouped), over the timed rounds.
   */
  record Result(
      double[] cpuMsPerImage, Bench.Figure serial, Bench.Figure pipelined, Bench.Figure grouped) {
    List<Bench.Figure> figures() {
      return List.of(serial, pipelined, grouped);
    }

    /** The fastest by median. */
    Bench.Figure best() {
      return figures().stream().max(Comparator.comparingDouble(Bench.Figure::median)).orElseThrow();
    }

    /** CPU milliseconds per image of the fastest. */
    double bestCpuMsPerImage() {
      return cpuMsPerImage[figures().indexOf(best())];
    }

    /** CPU figures, one per variant (best = median: one sum over the rounds). */
    List<Bench.Figure> cpuFigures() {
      List<Bench.Figure> out = new ArrayList<>();
      for (int v = 0; v < 3; v++) {
        String name = "CPU per image, " + figures().get(v).name();
        out.add(new Bench.Figure(name, "ms", cpuMsPerImage[v], cpuMsPerImage[v]));
      }
      return out;
    }
  }

  private BenchReference() {}

  /** Micro-batch sizes the sweep tries. */
  static final int[] BATCHES = {4, 8, 16, 32};

  /**
   * The forward pass alone (preprocessed pixels) at each of {@link #BATCHES}, in rotation: adds the
   * milliseconds per image of each to {@code figures}; returns the fastest size.
   */
  static int sweep(Extractor extractor, float[] pixels, int reps, List<Bench.Figure> figures) {
    System.err.println("bench: forward per image by micro-batch size ...");
    int per = pixels.length / BATCHES[BATCHES.length - 1];
    List<double[]> rounds = new ArrayList<>();
    for (int rep = -1; rep < Math.max(3, reps * 2); rep++) {
      double[] t = new double[BATCHES.length];
      for (int i = 0; i < BATCHES.length; i++) {
        int b = BATCHES[i];
        float[] px = java.util.Arrays.copyOf(pixels, b * per);
        int passes = Math.max(1, 64 / b);
        t[i] =
            Bench.time(
                    () -> {
                      for (int k = 0; k < passes; k++) {
                        extractor.logits(px, b);
                      }
                    })
                / 1e6
                / (passes * b);
      }
      if (rep >= 0) {
        rounds.add(t);
      }
    }
    int best = 0;
    double bestMs = Double.MAX_VALUE;
    for (int i = 0; i < BATCHES.length; i++) {
      Bench.Figure f = Bench.summarise("forward per image, micro-batch " + BATCHES[i], rounds, i);
      figures.add(f);
      if (f.median() < bestMs) {
        bestMs = f.median();
        best = BATCHES[i];
      }
    }
    return best;
  }

  static Result measure(
      Extractor extractor,
      LoadedAdapter formats,
      List<ExtractionRequest> requests,
      ExtractionEngine engine,
      int batch,
      int reps) {
    System.err.println("bench: the model alone (serial, pipelined, grouped engine) ...");
    ImagePreprocessor pre = new ImagePreprocessor(extractor.block().config());
    ExecutorService decode = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-decode"));
    ExecutorService readOut = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-read"));
    try {
      List<double[]> rounds = new ArrayList<>();
      double[] cpu = new double[3]; // this process's CPU over the timed rounds, ms
      for (int rep = -1; rep < Math.max(1, reps); rep++) { // the first round warms up
        double[] t = new double[3];
        List<Runnable> variants =
            List.of(
                () -> serial(extractor, pre, formats, requests, batch),
                () -> pipelined(extractor, pre, formats, requests, batch, decode, readOut),
                () -> engine.process(requests));
        for (int v = 0; v < 3; v++) {
          long c0 = CpuProfile.processCpuNanos();
          t[v] = Bench.time(variants.get(v)) / 1e6;
          if (rep >= 0) {
            cpu[v] += (CpuProfile.processCpuNanos() - c0) / 1e6;
          }
        }
        if (rep >= 0) {
          rounds.add(t);
        }
      }
      int n = requests.size();
      for (int v = 0; v < 3; v++) {
        cpu[v] /= (double) n * rounds.size();
      }
      return new Result(
          cpu,
          throughput("model alone, serial (one thread), micro-batches of " + batch, rounds, 0, n),
          throughput(
              "model alone, pipelined (decode ahead, read-out overlapped), micro-batches of "
                  + batch,
              rounds,
              1,
              n),
          throughput(
              "grouped engine in process (no Kafka), micro-batches of " + batch, rounds, 2, n));
    } finally {
      decode.shutdownNow();
      readOut.shutdownNow();
    }
  }

  private static Bench.Figure throughput(
      String name, List<double[]> rounds, int column, int items) {
    double[] ms = rounds.stream().mapToDouble(r -> r[column]).sorted().toArray();
    return new Bench.Figure(
        name, "images/s", items / (ms[0] / 1000), items / (ms[ms.length / 2] / 1000));
  }

  private static void serial(
      Extractor extractor,
      ImagePreprocessor pre,
      LoadedAdapter formats,
      List<ExtractionRequest> requests,
      int batch) {
    for (int from = 0; from < requests.size(); from += batch) {
      List<ExtractionRequest> chunk = chunk(requests, from, batch);
      float[] logits = extractor.logits(pixels(pre, chunk), chunk.size());
      extractor.read(logits, chunk.size(), formats.fieldFormats(), formats.confidenceTemperature());
    }
  }

  private static void pipelined(
      Extractor extractor,
      ImagePreprocessor pre,
      LoadedAdapter formats,
      List<ExtractionRequest> requests,
      int batch,
      ExecutorService decode,
      ExecutorService readOut) {
    try {
      Future<float[]> next = decode.submit(() -> pixels(pre, chunk(requests, 0, batch)));
      List<Future<?>> reads = new ArrayList<>();
      for (int from = 0; from < requests.size(); from += batch) {
        float[] pixels = next.get();
        int n = chunk(requests, from, batch).size();
        int after = from + batch;
        if (after < requests.size()) {
          next = decode.submit(() -> pixels(pre, chunk(requests, after, batch)));
        }
        float[] logits = extractor.logits(pixels, n);
        reads.add(
            readOut.submit(
                () ->
                    extractor.read(
                        logits, n, formats.fieldFormats(), formats.confidenceTemperature())));
      }
      for (Future<?> f : reads) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  private static List<ExtractionRequest> chunk(
      List<ExtractionRequest> requests, int from, int batch) {
    return requests.subList(from, Math.min(requests.size(), from + batch));
  }

  /** Decodes and preprocesses a chunk's images into one input array. */
  private static float[] pixels(ImagePreprocessor pre, List<ExtractionRequest> chunk) {
    float[] px = new float[chunk.size() * pre.inputSize()];
    for (int i = 0; i < chunk.size(); i++) {
      pre.toInput(decode(chunk.get(i)), px, i * pre.inputSize());
    }
    return px;
  }

  static BufferedImage decode(ExtractionRequest r) {
    ByteBuffer d = r.getImage().duplicate();
    byte[] bytes = new byte[d.remaining()];
    d.get(bytes);
    try {
      return ImagePreprocessor.decode(bytes);
    } catch (ImagePreprocessor.UnreadableImageException e) {
      throw new IllegalStateException("generated image does not decode", e);
    }
  }
}
