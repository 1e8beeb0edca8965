package dev.docstream.app;

import dev.docstream.app.Bench.Figure;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.engine.EngineOptions;
import dev.docstream.inference.engine.ExtractionEngine;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelConfig;
import dev.docstream.inference.model.RandomWeights;
import dev.docstream.inference.sim.Arrivals;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * The engine's adapter modes side by side, in process: a backlog of Zipf traffic over 200 document
 * types (random adapters on disk), processed in the worker's batches of 256 by the real {@link
 * ExtractionEngine} merged, unmerged (every group in mixed micro-batches) and hybrid.
 */
final class BenchModes {
  static final int TYPES = 200;

  private BenchModes() {}

  /**
   * Images per second of each mode, in the order merged, unmerged, hybrid.
   *
   * @param jobs requests in the backlog
   */
  static List<Figure> run(Extractor extractor, int rank, int jobs, int reps, long seed)
      throws IOException {
    Path dir = Files.createTempDirectory("docstream-bench-modes");
    try {
      for (int t = 0; t < TYPES; t++) {
        RandomWeights.adapter(extractor.block(), Arrivals.typeName(t), "random", rank, 0.02f, t)
            .write(dir.resolve(Arrivals.typeName(t)));
      }
      List<ExtractionRequest> requests = requests(extractor.block().config(), jobs, seed);
      var store = new DirectoryAdapterStore(dir, "random", extractor.block().moduleShapes());
      List<Figure> out = new ArrayList<>();
      String[] names = {
        "merged", "unmerged (mixed micro-batches only)", "hybrid (groups >= 8 merged)"
      };
      EngineOptions.AdapterMode[] modes = {
        EngineOptions.AdapterMode.MERGED,
        EngineOptions.AdapterMode.HYBRID,
        EngineOptions.AdapterMode.HYBRID
      };
      int[] minGroup = {8, Integer.MAX_VALUE, 8};
      for (int m = 0; m < names.length; m++) {
        EngineOptions options =
            EngineOptions.defaults("bench", "bench").withAdapterMode(modes[m], minGroup[m]);
        try (ExtractionEngine engine =
            new ExtractionEngine(
                extractor, store, options, new ExtractionEngine.Listener() {}, Clock.systemUTC())) {
          out.add(
              Bench.throughput(
                  "engine in process, " + TYPES + " types, " + jobs + " jobs: " + names[m],
                  reps,
                  jobs,
                  () -> {
                    for (int from = 0; from < requests.size(); from += 256) {
                      for (ExtractionResult r :
                          engine.process(
                              requests.subList(from, Math.min(requests.size(), from + 256)))) {
                        if (r.getStatus() != ResultStatus.OK) {
                          throw new IllegalStateException(
                              "job " + r.getJobId() + " failed: " + r.getReason());
                        }
                      }
                    }
                  }));
        }
      }
      return out;
    } finally {
      EmbeddedStack.deleteRecursively(dir);
    }
  }

  private static List<ExtractionRequest> requests(ModelConfig config, int jobs, long seed)
      throws IOException {
    Random rnd = new Random(seed);
    BufferedImage img =
        new BufferedImage(config.imageWidth(), config.imageHeight(), BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int v = rnd.nextInt(256);
        img.setRGB(x, y, (v << 16) | (v << 8) | v);
      }
    }
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(img, "png", png);
    List<ExtractionRequest> out = new ArrayList<>();
    for (Arrivals.Job j :
        Arrivals.generate(TYPES, 1.1, jobs, Double.POSITIVE_INFINITY, 1, 0, 1, seed)) {
      out.add(
          ExtractionRequest.newBuilder(j.request())
              .setImage(ByteBuffer.wrap(png.toByteArray()))
              .build());
    }
    return out;
  }
}
