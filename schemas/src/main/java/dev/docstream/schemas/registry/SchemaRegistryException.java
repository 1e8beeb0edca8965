package dev.docstream.schemas.registry;

/** A registry call that failed; {@link #status()} is the HTTP status, or -1 when unreachable. */
public final class SchemaRegistryException extends RuntimeException {
  /** Confluent's error code for an unknown schema id. */
  public static final int SCHEMA_NOT_FOUND = 40403;

  private final int status;
  private final int errorCode;

  public SchemaRegistryException(int status, int errorCode, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  /** HTTP status, or -1 when the registry could not be reached. */
  public int status() {
    return status;
  }

  /** Confluent error code (for example 40403 schema not found, 409 incompatible), or -1. */
  public int errorCode() {
    return errorCode;
  }

  /** Whether the failure is the registry not knowing the schema id. */
  public boolean isNotFound() {
    return status == 404;
  }

  /** Whether the failure is transient (unreachable or a server error). */
  public boolean isUnavailable() {
    return status == -1 || status >= 500;
  }
}
