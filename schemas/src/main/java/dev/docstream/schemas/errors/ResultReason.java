package dev.docstream.schemas.errors;

/**
 * Why a result is not OK (or how an OK result was made), carried by {@code
 * ExtractionResult.reason}. The field is a string, so a new code never breaks an old reader.
 */
public enum ResultReason {
  /** No adapter serves this document type (status REJECTED). */
  NO_ADAPTER,
  /** The adapter does not load, or its merged weights or outputs are not finite. */
  ADAPTER_INVALID,
  /** The image does not decode as PNG or JPEG. */
  IMAGE_UNREADABLE,
  /** The image declares more pixels than {@code worker.image.max.pixels}. */
  IMAGE_TOO_LARGE,
  /** The forward pass produced NaN or infinity for this job. */
  NON_FINITE_OUTPUT,
  /** The inference engine failed the micro-batch this job was in. */
  MODEL_ERROR,
  /** Processing this job threw for a reason no other code names; it failed alone. */
  PROCESSING_FAILED,
  /** Not a failure: status OK, read by the base model alone (no adapter, policy BASE_MODEL). */
  BASE_MODEL_FALLBACK
}
