package dev.docstream.topology.intake.internal;

import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.ImageReference;
import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.topology.intake.ReasonCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * Checks one decoded job and turns it into an extraction request, or says why not. Pure: no
 * Kafka, no state; duplicates are the processor's business.
 */
public final class JobValidator {
  private static final List<DocumentField> ALL_FIELDS = List.of(DocumentField.values());

  private final Set<String> documentTypes;
  private final int maxImageBytes;
  private final ImageSource images;

  public JobValidator(Set<String> documentTypes, int maxImageBytes, ImageSource images) {
    this.documentTypes = Set.copyOf(documentTypes);
    this.maxImageBytes = maxImageBytes;
    this.images = images;
  }

  /** Either a request or a rejection. */
  public record Outcome(ExtractionRequest request, Rejection rejection) {
    static Outcome reject(ReasonCode reason, String detail) {
      return new Outcome(null, new Rejection(reason, detail));
    }
  }

  /** Validates a job accepted at {@code now}. */
  public Outcome validate(VerificationJob job, Instant now) {
    if (!documentTypes.contains(job.getDocumentType())) {
      return Outcome.reject(ReasonCode.UNKNOWN_DOC_TYPE, "document type '" + job.getDocumentType() + "' is not served");
    }
    List<DocumentField> fields = new ArrayList<>();
    for (String name : job.getRequestedFields()) {
      DocumentField f = parseField(name);
      if (f == null) {
        return Outcome.reject(ReasonCode.UNKNOWN_FIELD, "requested field '" + name + "' is not extractable; known: " + ALL_FIELDS);
      }
      if (!fields.contains(f)) {
        fields.add(f);
      }
    }
    if (job.getImage() == null) {
      return Outcome.reject(ReasonCode.MISSING_IMAGE, "job has no image");
    }
    byte[] bytes;
    String declaredSha;
    if (job.getImage() instanceof InlineImage inline) {
      bytes = toArray(inline.getData());
      declaredSha = inline.getSha256();
      if (bytes.length == 0) {
        return Outcome.reject(ReasonCode.MISSING_IMAGE, "inline image is empty");
      }
    } else if (job.getImage() instanceof ImageReference ref) {
      declaredSha = ref.getSha256();
      try {
        bytes = images.fetch(ref.getUri());
      } catch (ImageSource.FetchException e) {
        return new Outcome(null, e.rejection());
      }
    } else {
      return Outcome.reject(ReasonCode.UNDECODABLE, "image has an unknown type");
    }
    if (bytes.length > maxImageBytes) {
      return Outcome.reject(ReasonCode.IMAGE_TOO_LARGE, "image has " + bytes.length + " bytes, limit " + maxImageBytes);
    }
    String sha = sha256(bytes);
    if (declaredSha != null && !declaredSha.equalsIgnoreCase(sha)) {
      return Outcome.reject(ReasonCode.CHECKSUM_MISMATCH, "image sha256 differs from the declared one");
    }
    if (!decodable(bytes)) {
      return Outcome.reject(ReasonCode.IMAGE_UNREADABLE, "image is not a PNG or JPEG that can be decoded");
    }
    ExtractionRequest request = ExtractionRequest.newBuilder()
        .setJobId(job.getJobId()).setTenantId(job.getTenantId()).setDocumentType(job.getDocumentType())
        .setImage(ByteBuffer.wrap(bytes)).setImageSha256(sha)
        .setRequestedFields(fields.isEmpty() ? ALL_FIELDS : fields)
        .setSubmittedAt(job.getSubmittedAt()).setAcceptedAt(now).setPriority(job.getPriority()).build();
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

  private static boolean decodable(byte[] bytes) {
    boolean pngOrJpeg = bytes.length > 8
        && ((bytes[0] == (byte) 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G')
            || (bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xD8));
    if (!pngOrJpeg) {
      return false;
    }
    try {
      return ImageIO.read(new ByteArrayInputStream(bytes)) != null;
    } catch (IOException | RuntimeException e) {
      return false; // ImageIO reports corrupt data with assorted runtime exceptions
    }
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
