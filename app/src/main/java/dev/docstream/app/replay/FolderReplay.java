package dev.docstream.app.replay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.app.LoadGenerator;
import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.training.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Replays a client's historical backlog: a folder of images and a JSONL manifest, one job a line:
 * {@code {"job_id": "...", "tenant_id": "...", "document_type": "...", "image":
 * "relative/path.png", "requested_fields": ["SURNAME", ...]}} (requested_fields optional). Jobs are
 * written in transactions of up to 50; after each, the number of manifest lines done is kept in
 * {@code .docstream-replay-<id>.progress} beside the manifest, so a rerun resumes after them.
 * Between a commit and that file's update a crash leaves at most one batch to resubmit, with the
 * same derived job ids, which intake's dedupe then drops.
 */
public final class FolderReplay {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BATCH = 50;

  private FolderReplay() {}

  /** The file that keeps how far a replay of this manifest got. */
  public static Path progressFile(Path manifest, String replayId) {
    return manifest.resolveSibling(".docstream-replay-" + replayId + ".progress");
  }

  /**
   * Runs (or counts) a folder replay.
   *
   * @throws IOException when the manifest or an image cannot be read, naming the line
   */
  public static Replay.Outcome run(
      Map<String, Object> clientProps,
      SchemaRegistry registry,
      String replayId,
      Path manifest,
      String documentType,
      double ratePerSecond,
      boolean dryRun,
      Clock clock)
      throws IOException {
    List<String> lines = Files.readAllLines(manifest);
    Path progressFile = progressFile(manifest, replayId);
    int done =
        Files.exists(progressFile) ? Integer.parseInt(Files.readString(progressFile).trim()) : 0;
    Map<String, Long> skipped = new TreeMap<>();
    AvroSerde<VerificationJob> serde = Topics.VERIFICATION_JOBS.valueSerde(registry);
    String topic = Topics.VERIFICATION_JOBS_REPLAY.name();
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "docstream-replay-" + replayId);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    long submitted = 0;
    long read = 0;
    Progress progress = new Progress("replay " + replayId, lines.size() - done);
    long start = System.nanoTime();
    try (KafkaProducer<String, byte[]> producer =
        dryRun ? null : new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      if (producer != null) {
        producer.initTransactions();
      }
      for (int from = done; from < lines.size(); from += BATCH) {
        int to = Math.min(lines.size(), from + BATCH);
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
          read++;
          if (lines.get(i).isBlank()) {
            skipped.merge("blank line", 1L, Long::sum);
            continue;
          }
          VerificationJob job = job(manifest, i + 1, lines.get(i), documentType);
          if (documentType != null && !documentType.equals(job.getDocumentType())) {
            skipped.merge("other document type", 1L, Long::sum);
            continue;
          }
          VerificationJob copy = Replay.replayed(job, replayId, clock.instant());
          out.add(new ProducerRecord<>(topic, copy.getJobId(), serde.serialize(topic, copy)));
        }
        submitted += out.size();
        if (producer != null) {
          producer.beginTransaction();
          out.forEach(producer::send);
          producer.commitTransaction();
          Files.writeString(progressFile, to + "\n");
          Replay.pace(submitted, ratePerSecond, start);
        }
        progress.update(to - done, (dryRun ? "would submit " : "submitted ") + submitted);
      }
    }
    return new Replay.Outcome(read, submitted, skipped, dryRun);
  }

  private static VerificationJob job(Path manifest, int lineNo, String line, String type)
      throws IOException {
    JsonNode n;
    try {
      n = JSON.readTree(line);
    } catch (IOException e) {
      throw new IOException(manifest + " line " + lineNo + ": not a JSON object");
    }
    String jobId = n.path("job_id").asText("");
    String tenant = n.path("tenant_id").asText("");
    String docType = n.path("document_type").asText(type == null ? "" : type);
    String image = n.path("image").asText("");
    if (jobId.isEmpty() || tenant.isEmpty() || docType.isEmpty() || image.isEmpty()) {
      throw new IOException(
          manifest + " line " + lineNo + ": job_id, tenant_id, document_type and image are needed");
    }
    Path base = manifest.toAbsolutePath().getParent().normalize();
    Path file = base.resolve(image).normalize();
    if (!file.startsWith(base)) {
      throw new IOException(manifest + " line " + lineNo + ": image is outside the folder");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException(manifest + " line " + lineNo + ": cannot read " + file);
    }
    List<String> fields = new ArrayList<>();
    n.path("requested_fields").forEach(f -> fields.add(f.asText()));
    return VerificationJob.newBuilder()
        .setJobId(jobId)
        .setTenantId(tenant)
        .setDocumentType(docType)
        .setImage(
            InlineImage.newBuilder()
                .setData(ByteBuffer.wrap(bytes))
                .setSha256(LoadGenerator.sha256(bytes))
                .build())
        .setRequestedFields(fields)
        .setSubmittedAt(java.time.Instant.EPOCH)
        .setPriority(Priority.LIVE)
        .build();
  }
}
