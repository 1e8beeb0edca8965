package dev.docstream.topology.intake;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/** Records an outsider might send on purpose: decompression bombs and lying Avro counts. */
public final class HostileRecords {
  private HostileRecords() {}

  /** A small valid PNG whose header declares {@code width} x {@code height} pixels. */
  public static byte[] pngDeclaring(byte[] png, int width, int height) {
    byte[] bomb = Arrays.copyOf(png, png.length);
    // IHDR is the first chunk: length (8..11), type (12..15), width (16..19), height (20..23), ...
    ByteBuffer.wrap(bomb, 16, 8).putInt(width).putInt(height);
    CRC32 crc = new CRC32();
    crc.update(bomb, 12, 17);
    ByteBuffer.wrap(bomb, 29, 4).putInt((int) crc.getValue());
    return bomb;
  }

  /**
   * A VerificationJob in the wire format (header taken from a valid record) whose
   * requested_fields array claims {@code count} items, followed by nothing.
   */
  public static byte[] jobClaimingArrayItems(byte[] validRecord, String jobId, long count) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(validRecord, 0, 5); // magic byte and schema id
    string(out, jobId);
    string(out, "tenant-a");
    string(out, "GBR-PASSPORT-2015");
    out.write(0); // image: union branch 0, null
    varLong(out, count); // requested_fields: one block of count items
    string(out, "SURNAME");
    return out.toByteArray();
  }

  static void string(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    varLong(out, b.length);
    out.writeBytes(b);
  }

  /** Avro's zig-zag variable-length long. */
  static void varLong(ByteArrayOutputStream out, long n) {
    long z = (n << 1) ^ (n >> 63);
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
  }
}
