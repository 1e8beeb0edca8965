package dev.docstream.schemas.errors;

/** Why intake rejected a job; carried by every dead-letter record. */
public enum DeadLetterReason {
  /** The value is not a VerificationJob in the Confluent wire format. */
  UNDECODABLE,
  /** No adapter serves this document type. */
  UNKNOWN_DOC_TYPE,
  /**
   * The document type was served once, but its promoted adapter has been retired in the adapters
   * registry: the type is no longer served.
   */
  DOCUMENT_TYPE_RETIRED,
  /** No image, or a reference to an image that does not exist. */
  MISSING_IMAGE,
  /**
   * The image is larger than {@code intake.image.max.bytes}, or declares more pixels than {@code
   * intake.image.max.pixels}.
   */
  IMAGE_TOO_LARGE,
  /** The bytes are not a PNG or JPEG the JDK can decode, or the reference cannot be read. */
  IMAGE_UNREADABLE,
  /** The image's sha256 differs from the one the job declared. */
  CHECKSUM_MISMATCH,
  /** A requested field is not one DocStream extracts. */
  UNKNOWN_FIELD,
  /** The job id was already accepted for this tenant within the dedupe window. */
  DUPLICATE_JOB,
  /** The job id is empty, blank or longer than 256 characters. */
  INVALID_JOB_ID,
  /** The tenant id is empty, blank or longer than 256 characters. */
  INVALID_TENANT_ID,
  /** The extraction request built from the job would exceed {@code intake.record.max.bytes}. */
  REQUEST_TOO_LARGE,
  /**
   * Processing the record failed {@code intake.processing.max.attempts} times (an error that is not
   * one of the reasons above); it is set aside so that the records behind it go on.
   */
  PROCESSING_FAILED
}
