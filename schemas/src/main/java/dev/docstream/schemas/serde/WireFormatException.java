package dev.docstream.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record that could not be written or read in the Confluent wire format, with a reason code a
 * dead-letter record can carry. Messages name the topic and schema id, never record contents.
 */
public final class WireFormatException extends SerializationException {
  /** Why a record could not be (de)serialised. */
  public enum Reason {
    /** Byte 0 was not 0: not Confluent wire format. */
    UNKNOWN_MAGIC_BYTE,
    /** The schema id is not known to the registry. */
    UNKNOWN_SCHEMA_ID,
    /** Too short, or the Avro body does not decode with the writer schema. */
    CORRUPT_PAYLOAD,
    /** The registry could not be reached or answered with a server error. */
    REGISTRY_UNAVAILABLE,
    /** The registry refused the schema (incompatible with the subject's versions). */
    SCHEMA_REJECTED
  }

  private final Reason reason;

  public WireFormatException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  public WireFormatException(Reason reason, String message) {
    this(reason, message, null);
  }

  /** The reason code. */
  public Reason reason() {
    return reason;
  }
}
