package dev.docstream.topology.intake;

/** Why intake rejected a job; carried by every dead-letter record. */
public enum ReasonCode {
  /** The value is not a VerificationJob in the Confluent wire format. */
  UNDECODABLE,
  /** No adapter serves this document type. */
  UNKNOWN_DOC_TYPE,
  /** No image, or a reference to an image that does not exist. */
  MISSING_IMAGE,
  /** The image is larger than {@code intake.image.max.bytes}. */
  IMAGE_TOO_LARGE,
  /** The bytes are not a PNG or JPEG the JDK can decode, or the reference cannot be read. */
  IMAGE_UNREADABLE,
  /** The image's sha256 differs from the one the job declared. */
  CHECKSUM_MISMATCH,
  /** A requested field is not one DocStream extracts. */
  UNKNOWN_FIELD,
  /** The job id was already accepted within the dedupe window. */
  DUPLICATE_JOB
}
