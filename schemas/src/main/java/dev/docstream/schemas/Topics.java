package dev.docstream.schemas;

import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Every DocStream topic, declared once with its key and value serdes. */
public final class Topics {
  private Topics() {}

  /**
   * A topic: its name, string keys, and Avro values in the Confluent wire format.
   *
   * @param keyDoc what the key is
   */
  public record Topic<V extends SpecificRecord>(String name, Class<V> valueType, String keyDoc) {
    /** Keys are UTF-8 strings on every topic. */
    public Serde<String> keySerde() {
      return Serdes.String();
    }

    /** The value serde, registering under {@code <name>-value}. */
    public AvroSerde<V> valueSerde(SchemaRegistry registry) {
      return new AvroSerde<>(valueType, registry);
    }
  }

  public static final Topic<VerificationJob> VERIFICATION_JOBS =
      new Topic<>("verification.jobs", VerificationJob.class, "job id");

  /** Where {@code docstream replay} writes: intake's replay input, off the live path. */
  public static final Topic<VerificationJob> VERIFICATION_JOBS_REPLAY =
      new Topic<>("verification.jobs.replay", VerificationJob.class, "job id");

  public static final Topic<DeadLetter> VERIFICATION_JOBS_DLQ =
      new Topic<>("verification.jobs.dlq", DeadLetter.class, "job id, or null when unreadable");
  public static final Topic<ExtractionRequest> EXTRACTION_REQUESTS =
      new Topic<>("extraction.requests", ExtractionRequest.class, "document type");

  /** The replay lane: REPLAY requests, read by workers only while the live lane has no backlog. */
  public static final Topic<ExtractionRequest> EXTRACTION_REQUESTS_REPLAY =
      new Topic<>("extraction.requests.replay", ExtractionRequest.class, "document type");

  public static final Topic<ExtractionResult> EXTRACTION_RESULTS =
      new Topic<>("extraction.results", ExtractionResult.class, "job id");
  public static final Topic<QcTask> QC_REVIEW = new Topic<>("qc.review", QcTask.class, "job id");
  public static final Topic<QcVerdict> QC_VERDICTS =
      new Topic<>("qc.verdicts", QcVerdict.class, "job id");

  /** Review tasks' leases (compacted): who works on which task until when. */
  public static final Topic<QcLease> QC_LEASES = new Topic<>("qc.leases", QcLease.class, "job id");

  public static final Topic<AdapterManifest> ADAPTERS_MANIFESTS =
      new Topic<>("adapters.manifests", AdapterManifest.class, "document type");

  /** All topics. */
  public static final List<Topic<?>> ALL =
      List.of(
          VERIFICATION_JOBS,
          VERIFICATION_JOBS_REPLAY,
          VERIFICATION_JOBS_DLQ,
          EXTRACTION_REQUESTS,
          EXTRACTION_REQUESTS_REPLAY,
          EXTRACTION_RESULTS,
          QC_REVIEW,
          QC_VERDICTS,
          QC_LEASES,
          ADAPTERS_MANIFESTS);
}
