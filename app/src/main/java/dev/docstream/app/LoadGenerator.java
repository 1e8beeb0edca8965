package dev.docstream.app;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.training.Progress;
import dev.docstream.training.synth.DocumentRenderer;
import dev.docstream.training.synth.DocumentTypeSpec;
import dev.docstream.training.synth.IdentitySampler;
import dev.docstream.training.synth.SyntheticDocument;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Synthetic verification jobs: documents of the given types in a Zipf-like mix (a few types take
 * most of the traffic, as in production), with a share of bad jobs of every kind intake rejects.
 */
public final class LoadGenerator {
  /** Kinds of bad job the generator injects, by the dead-letter reason they must get. */
  public static final List<String> BAD_KINDS =
      List.of(
          "UNKNOWN_DOC_TYPE",
          "MISSING_IMAGE",
          "IMAGE_UNREADABLE",
          "CHECKSUM_MISMATCH",
          "UNKNOWN_FIELD",
          "DUPLICATE_JOB");

  /**
   * One generated job.
   *
   * @param truth the ground truth of a good job, null for a bad one
   * @param badReason the dead-letter reason a bad job must get, null for a good one
   */
  public record Job(
      String jobId,
      String documentType,
      VerificationJob job,
      Map<DocumentField, String> truth,
      String badReason) {}

  private LoadGenerator() {}

  /**
   * Generates jobs; the same arguments give the same jobs.
   *
   * @param zipf the exponent s of the type mix: weight of the k-th type is 1 / k^s
   * @param badShare the share of bad jobs, spread over {@link #BAD_KINDS}
   */
  public static List<Job> generate(
      List<String> types, int count, double zipf, double badShare, long seed) {
    Random rnd = new Random(seed);
    List<String> ranked = new ArrayList<>(types);
    Collections.sort(ranked);
    Collections.shuffle(ranked, rnd);
    double[] cumulative = new double[ranked.size()];
    double total = 0;
    for (int k = 0; k < ranked.size(); k++) {
      total += 1 / Math.pow(k + 1, zipf);
      cumulative[k] = total;
    }
    int bad = (int) Math.round(count * badShare);
    int badSoFar = 0;
    List<Job> jobs = new ArrayList<>(count);
    Progress progress = new Progress("generating jobs", count);
    for (int i = 0; i < count; i++) {
      double u = rnd.nextDouble() * total;
      int k = 0;
      while (cumulative[k] < u) {
        k++;
      }
      String type = ranked.get(k);
      DocumentTypeSpec spec = DocumentTypeSpec.forId(type);
      SyntheticDocument doc =
          DocumentRenderer.render(
              spec, IdentitySampler.sample(spec, rnd), DocumentRenderer.Augmentation.MILD, rnd);
      byte[] png = doc.png();
      String id = "job-" + seed + "-" + i;
      VerificationJob.Builder b =
          VerificationJob.newBuilder()
              .setJobId(id)
              .setTenantId("tenant-" + (i % 3))
              .setDocumentType(type)
              .setImage(
                  InlineImage.newBuilder()
                      .setData(ByteBuffer.wrap(png))
                      .setSha256(sha256(png))
                      .build())
              .setRequestedFields(List.of())
              .setSubmittedAt(Instant.now())
              .setPriority(Priority.LIVE);
      // Exactly `bad` bad jobs, spread evenly, never first (a duplicate needs an original).
      boolean isBad = badSoFar < bad && i >= (long) (badSoFar + 1) * count / (bad + 1);
      if (!isBad) {
        jobs.add(new Job(id, type, b.build(), doc.identity().groundTruth(), null));
        continue;
      }
      String kind = BAD_KINDS.get(badSoFar++ % BAD_KINDS.size());
      switch (kind) {
        case "UNKNOWN_DOC_TYPE" -> b.setDocumentType("XXX-UNKNOWN-1999");
        case "MISSING_IMAGE" -> b.setImage(null);
        case "IMAGE_UNREADABLE" ->
            b.setImage(
                InlineImage.newBuilder()
                    .setData(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}))
                    .setSha256(null)
                    .build());
        case "CHECKSUM_MISMATCH" ->
            b.setImage(
                InlineImage.newBuilder()
                    .setData(ByteBuffer.wrap(png))
                    .setSha256("0".repeat(64))
                    .build());
        case "UNKNOWN_FIELD" -> b.setRequestedFields(List.of("SURNAME", "SHOE_SIZE"));
        case "DUPLICATE_JOB" -> {
          Job original = jobs.get(0); // job 0 is always good
          b = VerificationJob.newBuilder(original.job());
          id = original.jobId();
          type = original.documentType();
        }
        default -> throw new IllegalStateException(kind);
      }
      jobs.add(new Job(id, type, b.build(), null, kind));
      if (i % 50 == 0) {
        progress.update(i, "");
      }
    }
    progress.update(count, "");
    return jobs;
  }

  /**
   * Produces the jobs to {@code verification.jobs}, stamping submitted-at as each is sent.
   *
   * @param ratePerSecond 0 for as fast as possible
   */
  public static void produce(
      String bootstrapServers, SchemaRegistry registry, List<Job> jobs, double ratePerSecond) {
    AvroSerde<VerificationJob> serde = Topics.VERIFICATION_JOBS.valueSerde(registry);
    String topic = Topics.VERIFICATION_JOBS.name();
    Map<String, Object> cfg =
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ProducerConfig.LINGER_MS_CONFIG,
            5,
            ProducerConfig.ACKS_CONFIG,
            "all");
    long start = System.nanoTime();
    try (var producer =
        new KafkaProducer<>(cfg, new StringSerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < jobs.size(); i++) {
        if (ratePerSecond > 0) {
          long due = start + (long) (i / ratePerSecond * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            try {
              Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
        }
        Job j = jobs.get(i);
        VerificationJob v =
            VerificationJob.newBuilder(j.job()).setSubmittedAt(Instant.now()).build();
        producer.send(new ProducerRecord<>(topic, j.jobId(), serde.serialize(topic, v)));
      }
    }
  }

  /** The sha256 of bytes, in hex, as jobs declare their images'. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
