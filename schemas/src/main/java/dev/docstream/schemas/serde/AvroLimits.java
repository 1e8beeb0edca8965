package dev.docstream.schemas.serde;

import org.apache.avro.SystemLimitException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds on what one Avro record may claim: string and bytes lengths, and items in one array or
 * map. Avro allocates a collection or a byte array of the claimed size before it reads the items,
 * so without bounds a 30-byte record claiming two billion array items throws {@code
 * OutOfMemoryError}. Avro reads its limits from system properties once, when its {@code
 * SystemLimitException} class is first used; {@link #install()} sets DocStream's defaults unless
 * the properties are already set (an operator may raise them with {@code -D...}).
 *
 * <p>The defaults sit far above what a valid record holds (a record is at most about 1 MB, see
 * {@code intake.record.max.bytes}; a job asks for at most 7 fields) and far below what would hurt a
 * worker's heap.
 */
public final class AvroLimits {
  private static final Logger LOG = LoggerFactory.getLogger(AvroLimits.class);

  /** Longest bytes value: 16 MiB. */
  public static final int MAX_BYTES = 16 * 1024 * 1024;

  /** Longest string: 1 MiB. */
  public static final int MAX_STRING = 1024 * 1024;

  /** Most items in one array or map: 100,000. */
  public static final int MAX_COLLECTION_ITEMS = 100_000;

  private AvroLimits() {}

  /** Sets the limits (where not set already) and checks that Avro applies them. Idempotent. */
  public static synchronized void install() {
    setIfAbsent(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY, MAX_BYTES);
    setIfAbsent(SystemLimitException.MAX_STRING_LENGTH_PROPERTY, MAX_STRING);
    setIfAbsent(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY, MAX_COLLECTION_ITEMS);
    long wanted =
        Integer.parseUnsignedInt(
            System.getProperty(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY));
    if (!refuses(wanted + 1)) {
      LOG.error(
          "Avro was used before DocStream set its decoding limits, so a record may claim a collection "
              + "of any size; start the JVM with -D{}={}",
          SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY,
          MAX_COLLECTION_ITEMS);
    }
  }

  /** Whether Avro now refuses a collection of {@code items}. */
  static boolean refuses(long items) {
    try {
      SystemLimitException.checkMaxCollectionLength(items);
      return false;
    } catch (SystemLimitException | UnsupportedOperationException e) {
      return true;
    }
  }

  private static void setIfAbsent(String property, int value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, Integer.toString(value));
    }
  }
}
