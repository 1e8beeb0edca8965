package dev.docstream.inference.sim;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Priority;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.utils.Utils;

/**
 * Simulated traffic: Poisson arrivals at a given rate, document types drawn from a Zipf law, each
 * job's partition chosen as intake's producer chooses it (murmur2 of the record key, Kafka's
 * default partitioner). The requests are real {@link ExtractionRequest}s (no image bytes), so the
 * real group planner orders them.
 */
public final class Arrivals {
  /** Epoch of simulated time zero: request timestamps are this plus the arrival time. */
  public static final long EPOCH_MS = 1_700_000_000_000L;

  /**
   * One job.
   *
   * @param atMs arrival time in simulated milliseconds
   * @param key the record key intake writes (the document type, or {@code type#shard} when the type
   *     is spread over shards)
   */
  public record Job(double atMs, String key, int partition, ExtractionRequest request) {}

  private Arrivals() {}

  /** The document type names of a catalogue of {@code types}: {@code TYPE-0000}, ... */
  public static String typeName(int rank) {
    return String.format("TYPE-%04d", rank);
  }

  /**
   * Generates {@code jobs} arrivals.
   *
   * @param ratePerMs mean arrivals per simulated millisecond (Infinity: a backlog, all at time 0)
   * @param hotTypes how many of the most frequent types are spread over {@code shards} keys each
   */
  public static List<Job> generate(
      int types,
      double zipf,
      int jobs,
      double ratePerMs,
      int partitions,
      int hotTypes,
      int shards,
      long seed) {
    double[] cdf = zipfCdf(types, zipf);
    Random rnd = new Random(seed);
    List<Job> out = new ArrayList<>(jobs);
    ByteBuffer noImage = ByteBuffer.allocate(0);
    double t = 0;
    for (int i = 0; i < jobs; i++) {
      if (!Double.isInfinite(ratePerMs)) {
        t += -Math.log(1 - rnd.nextDouble()) / ratePerMs;
      }
      int rank = draw(cdf, rnd.nextDouble());
      String type = typeName(rank);
      String key = rank < hotTypes && shards > 1 ? type + "#" + (i % shards) : type;
      int partition = partitionOf(key, partitions);
      String jobId = "sim-" + i;
      // A backlog: all there at time 0, submitted a millisecond apart before the workers started.
      long submitted = EPOCH_MS + (Double.isInfinite(ratePerMs) ? i - jobs : (long) t);
      ExtractionRequest r =
          ExtractionRequest.newBuilder()
              .setJobId(jobId)
              .setTenantId("sim")
              .setDocumentType(type)
              .setImage(noImage)
              .setImageSha256("")
              .setRequestedFields(List.of(DocumentField.values()))
              .setSubmittedAt(Instant.ofEpochMilli(submitted))
              .setAcceptedAt(Instant.ofEpochMilli(submitted))
              .setPriority(Priority.LIVE)
              .build();
      out.add(new Job(t, key, partition, r));
    }
    return out;
  }

  /** The partition Kafka's default partitioner gives a keyed record. */
  public static int partitionOf(String key, int partitions) {
    return Utils.toPositive(Utils.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        % partitions;
  }

  private static double[] zipfCdf(int types, double s) {
    double[] cdf = new double[types];
    double sum = 0;
    for (int k = 0; k < types; k++) {
      sum += 1 / Math.pow(k + 1, s);
      cdf[k] = sum;
    }
    for (int k = 0; k < types; k++) {
      cdf[k] /= sum;
    }
    return cdf;
  }

  private static int draw(double[] cdf, double u) {
    int i = java.util.Arrays.binarySearch(cdf, u);
    return Math.min(cdf.length - 1, i >= 0 ? i : -i - 1);
  }
}
