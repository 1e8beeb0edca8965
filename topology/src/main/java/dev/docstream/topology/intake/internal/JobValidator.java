package dev.docstream.topology.intake.internal;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ImageReference;
import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.errors.DeadLetterReason;
import dev.docstream.schemas.image.BoundedImageDecoder;
import dev.docstream.topology.intake.DocumentTypeCatalog;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Checks one decoded job and turns it into an extraction request, or says why not. Pure: no Kafka,
 * no state; duplicates are the processor's business.
 */
public final class JobValidator {
  private static final List<DocumentField> ALL_FIELDS = List.of(DocumentField.values());

  /** Longest job or tenant id: ids are keys, logged and stored per job, so they stay short. */
  public static final int MAX_ID_CHARS = 256;

  private final DocumentTypeCatalog documentTypes;
  private final int maxImageBytes;
  private final ImageSource images;
  private final BoundedImageDecoder decoder;

  public JobValidator(
      Set<String> documentTypes, int maxImageBytes, long maxImagePixels, ImageSource images) {
    this(DocumentTypeCatalog.of(documentTypes), maxImageBytes, maxImagePixels, images);
  }

  public JobValidator(
      DocumentTypeCatalog documentTypes,
      int maxImageBytes,
      long maxImagePixels,
      ImageSource images) {
    this.documentTypes = documentTypes;
    this.maxImageBytes = maxImageBytes;
    this.images = images;
    this.decoder = new BoundedImageDecoder(maxImagePixels);
  }

  /** Whether a job or tenant id is usable: not blank, at most {@link #MAX_ID_CHARS} characters. */
  public static boolean validId(String id) {
    return id != null && !id.isBlank() && id.length() <= MAX_ID_CHARS;
  }

  /** Either a request or a rejection. */
  public record Outcome(ExtractionRequest request, Rejection rejection) {
    static Outcome reject(DeadLetterReason reason, String detail) {
      return new Outcome(null, new Rejection(reason, detail));
    }
  }

  /** Validates a job accepted at {@code now}. */
  public Outcome validate(VerificationJob job, Instant now) {
    if (!validId(job.getJobId())) {
      return Outcome.reject(
          DeadLetterReason.INVALID_JOB_ID,
          "job id is empty, blank or over "
              + MAX_ID_CHARS
              + " characters ("
              + job.getJobId().length()
              + ")");
    }
    if (!validId(job.getTenantId())) {
      return Outcome.reject(
          DeadLetterReason.INVALID_TENANT_ID,
          "tenant id is empty, blank or over "
              + MAX_ID_CHARS
              + " characters ("
              + job.getTenantId().length()
              + ")");
    }
    switch (documentTypes.status(job.getDocumentType())) {
      case SERVED -> {}
      case RETIRED -> {
        return Outcome.reject(
            DeadLetterReason.DOCUMENT_TYPE_RETIRED,
            "document type '" + job.getDocumentType() + "' was retired: its adapter is retired");
      }
      case UNKNOWN -> {
        return Outcome.reject(
            DeadLetterReason.UNKNOWN_DOC_TYPE,
            "document type '" + job.getDocumentType() + "' is not served");
      }
    }
    List<DocumentField> fields = new ArrayList<>();
    for (String name : job.getRequestedFields()) {
      DocumentField f = parseField(name);
      if (f == null) {
        return Outcome.reject(
            DeadLetterReason.UNKNOWN_FIELD,
            "requested field '" + name + "' is not extractable; known: " + ALL_FIELDS);
      }
      if (!fields.contains(f)) {
        fields.add(f);
      }
    }
    if (job.getImage() == null) {
      return Outcome.reject(DeadLetterReason.MISSING_IMAGE, "job has no image");
    }
    byte[] bytes;
    String declaredSha;
    if (job.getImage() instanceof InlineImage inline) {
      bytes = toArray(inline.getData());
      declaredSha = inline.getSha256();
      if (bytes.length == 0) {
        return Outcome.reject(DeadLetterReason.MISSING_IMAGE, "inline image is empty");
      }
    } else if (job.getImage() instanceof ImageReference ref) {
      declaredSha = ref.getSha256();
      try {
        bytes = images.fetch(ref.getUri());
      } catch (ImageSource.FetchException e) {
        return new Outcome(null, e.rejection());
      }
    } else {
      return Outcome.reject(DeadLetterReason.UNDECODABLE, "image has an unknown type");
    }
    if (bytes.length > maxImageBytes) {
      return Outcome.reject(
          DeadLetterReason.IMAGE_TOO_LARGE,
          "image has " + bytes.length + " bytes, limit " + maxImageBytes);
    }
    String sha = sha256(bytes);
    if (declaredSha != null && !declaredSha.equalsIgnoreCase(sha)) {
      return Outcome.reject(
          DeadLetterReason.CHECKSUM_MISMATCH, "image sha256 differs from the declared one");
    }
    try {
      decoder.checkHeader(bytes); // the worker decodes the pixels (and refuses a corrupt body)
    } catch (BoundedImageDecoder.RefusedImageException e) {
      return e.tooLarge()
          ? Outcome.reject(DeadLetterReason.IMAGE_TOO_LARGE, e.getMessage())
          : Outcome.reject(
              DeadLetterReason.IMAGE_UNREADABLE, "image is not a PNG or JPEG whose header reads");
    }
    ExtractionRequest request =
        ExtractionRequest.newBuilder()
            .setJobId(job.getJobId())
            .setTenantId(job.getTenantId())
            .setDocumentType(job.getDocumentType())
            .setImage(ByteBuffer.wrap(bytes))
            .setImageSha256(sha)
            .setRequestedFields(fields.isEmpty() ? ALL_FIELDS : fields)
            .setSubmittedAt(job.getSubmittedAt())
            .setAcceptedAt(now)
            .setPriority(job.getPriority())
            .setReplayOf(job.getReplayOf())
            .build();
    return new Outcome(request, null);
  }

  private static DocumentField parseField(String name) {
    for (DocumentField f : DocumentField.values()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  private static byte[] toArray(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** Lower-case hex sha256. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
