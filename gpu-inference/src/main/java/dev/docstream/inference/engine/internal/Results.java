package dev.docstream.inference.engine.internal;

import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.model.decoding.FieldReading;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.ResultStatus;
import dev.docstream.schemas.errors.ResultReason;
import dev.docstream.schemas.image.BoundedImageDecoder;
import java.awt.image.BufferedImage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds an engine's results: what every result carries, and the OK and failed kinds. */
public final class Results {
  private final String baseModelId;
  private final String workerId;
  private final Clock clock;

  public Results(String baseModelId, String workerId, Clock clock) {
    this.baseModelId = baseModelId;
    this.workerId = workerId;
    this.clock = clock;
  }

  /**
   * An OK result with the requested fields read.
   *
   * @param flag a reason on an OK result (BASE_MODEL_FALLBACK), or null
   */
  public ExtractionResult ok(
      ExtractionRequest r,
      Map<DocumentField, FieldReading> reading,
      LoadedAdapter adapter,
      String flag,
      float modelMs,
      int batchSize) {
    List<ExtractedField> fields = new ArrayList<>();
    for (DocumentField f : r.getRequestedFields()) {
      FieldReading fr = reading.get(f);
      fields.add(
          ExtractedField.newBuilder()
              .setField(f)
              .setValue(fr.value().isEmpty() ? null : fr.value())
              .setConfidence((float) fr.confidence())
              .build());
    }
    return base(r, ResultStatus.OK, flag)
        .setFields(fields)
        .setAdapterId(adapter == null ? null : adapter.id())
        .setAdapterVersion(adapter == null ? null : adapter.version())
        .setModelMs(modelMs)
        .setBatchSize(batchSize)
        .build();
  }

  /** A result without fields: failed or rejected, with its reason code. */
  public ExtractionResult failed(ExtractionRequest r, ResultStatus status, String reason) {
    return base(r, status, reason).setFields(List.of()).setModelMs(0).setBatchSize(0).build();
  }

  private ExtractionResult.Builder base(ExtractionRequest r, ResultStatus status, String reason) {
    return ExtractionResult.newBuilder()
        .setJobId(r.getJobId())
        .setTenantId(r.getTenantId())
        .setDocumentType(r.getDocumentType())
        .setStatus(status)
        .setReason(reason)
        .setBaseModelId(baseModelId)
        .setSubmittedAt(r.getSubmittedAt())
        .setCompletedAt(clock.instant())
        .setWorkerId(workerId)
        .setPriority(r.getPriority())
        .setReplayOf(r.getReplayOf())
        .setImageSha256(r.getImageSha256());
  }

  /**
   * Decodes the requests' images: the readable ones into {@code readable} and {@code decoded}, a
   * failed result with its reason (IMAGE_TOO_LARGE, IMAGE_UNREADABLE) into {@code failed} for each
   * of the others.
   */
  public void decodeEach(
      dev.docstream.inference.engine.DecodedImages images,
      List<ExtractionRequest> requests,
      List<ExtractionRequest> readable,
      List<BufferedImage> decoded,
      List<ExtractionResult> failed) {
    for (ExtractionRequest r : requests) {
      try {
        decoded.add(images.get(r));
        readable.add(r);
      } catch (BoundedImageDecoder.RefusedImageException e) {
        failed.add(
            failed(
                r,
                ResultStatus.FAILED,
                e.tooLarge()
                    ? ResultReason.IMAGE_TOO_LARGE.name()
                    : ResultReason.IMAGE_UNREADABLE.name()));
      }
    }
  }
}
