package dev.docstream.schemas.errors;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.serde.AvroSerde;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * Builds and writes {@link DeadLetter} records, the same way for every stage. A dead letter carries
 * the rejected value for replay, but it must still fit in one Kafka record: one that would not is
 * written without its original value, and its detail says so, so that the dead letter for an
 * oversized job never becomes a second record that cannot be written.
 */
public final class DeadLetters {
  /**
   * Bytes a record needs beyond its key and value, with room to spare: Kafka's record batch header
   * (61 bytes) and the record's own varints and attributes (at most 21 bytes).
   */
  public static final int RECORD_OVERHEAD_BYTES = 512;

  /**
   * Longest detail kept: details may quote values a client sent, which must not bloat the topic.
   */
  public static final int MAX_DETAIL_CHARS = 500;

  private DeadLetters() {}

  /** Where the rejected record came from. */
  public record Source(String topic, int partition, long offset) {}

  /**
   * A dead letter.
   *
   * @param jobId the job's id, or null when the record could not be read
   * @param original the rejected value, or null to carry none
   */
  public static DeadLetter of(
      String jobId,
      String reason,
      String detail,
      Source source,
      Instant failedAt,
      byte[] original) {
    return DeadLetter.newBuilder()
        .setJobId(jobId)
        .setReason(reason)
        .setDetail(truncate(detail))
        .setSourceTopic(source.topic())
        .setSourcePartition(source.partition())
        .setSourceOffset(source.offset())
        .setFailedAt(failedAt)
        .setOriginalValue(original == null ? null : ByteBuffer.wrap(original))
        .build();
  }

  /**
   * The dead letter's bytes for {@code topic}, without its original value if the record would
   * otherwise exceed {@code maxRecordBytes} (a producer's {@code max.request.size}).
   */
  public static byte[] serialize(
      AvroSerde<DeadLetter> serde, String topic, String key, DeadLetter dead, int maxRecordBytes) {
    byte[] bytes = serde.serialize(topic, dead);
    if (fits(key, bytes, maxRecordBytes) || dead.getOriginalValue() == null) {
      return bytes;
    }
    int size = dead.getOriginalValue().remaining();
    DeadLetter slim =
        DeadLetter.newBuilder(dead)
            .setOriginalValue(null)
            .setDetail(
                truncate(dead.getDetail())
                    + " [original value of "
                    + size
                    + " bytes omitted: over the "
                    + maxRecordBytes
                    + "-byte record limit]")
            .build();
    return serde.serialize(topic, slim);
  }

  /** Whether a record with this key and value fits under a producer's {@code max.request.size}. */
  public static boolean fits(String key, byte[] value, int maxRecordBytes) {
    long keyBytes = key == null ? 0 : (long) key.length() * 3; // UTF-8 upper bound
    return keyBytes + (value == null ? 0 : value.length) + RECORD_OVERHEAD_BYTES <= maxRecordBytes;
  }

  private static String truncate(String detail) {
    if (detail == null) {
      return "";
    }
    return detail.length() <= MAX_DETAIL_CHARS
        ? detail
        : detail.substring(0, MAX_DETAIL_CHARS) + "...";
  }
}
