package dev.docstream.schemas.testing;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;

/**
 * Records an outsider might send on purpose: decompression bombs, lying Avro counts, and valid
 * records mutated at random (the fuzz tests' source).
 */
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
   * A VerificationJob in the wire format (header taken from a valid record) whose requested_fields
   * array claims {@code count} items, followed by nothing.
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

  public static void string(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    varLong(out, b.length);
    out.writeBytes(b);
  }

  /** Avro's zig-zag variable-length long. */
  public static void varLong(ByteArrayOutputStream out, long n) {
    long z = (n << 1) ^ (n >> 63);
    while ((z & ~0x7FL) != 0) {
      out.write((int) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.write((int) z);
  }

  /** Bytes of a valid record, mutated in one of several ways (or left valid). */
  public static byte[] mutate(Random rnd, byte[] valid) {
    byte[] b = valid.clone();
    switch (rnd.nextInt(7)) {
      case 0 -> { // bit flips
        for (int k = 1 + rnd.nextInt(8); k > 0; k--) {
          int at = rnd.nextInt(b.length);
          b[at] ^= (byte) (1 << rnd.nextInt(8));
        }
        return b;
      }
      case 1 -> {
        return Arrays.copyOf(b, rnd.nextInt(b.length)); // truncated
      }
      case 2 -> { // a varint set to an extreme where a length or count may be
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 5 + rnd.nextInt(Math.max(1, b.length - 5));
        out.write(b, 0, Math.min(at, b.length));
        long[] extremes = {
          Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE, -1, 2_000_000_000L, 1L << 40, 100_001
        };
        varLong(out, extremes[rnd.nextInt(extremes.length)]);
        int skip = Math.min(b.length, at + 1 + rnd.nextInt(4));
        out.write(b, skip, b.length - skip);
        return out.toByteArray();
      }
      case 3 -> { // bytes inserted
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = rnd.nextInt(b.length);
        out.write(b, 0, at);
        byte[] junk = new byte[1 + rnd.nextInt(16)];
        rnd.nextBytes(junk);
        out.writeBytes(junk);
        out.write(b, at, b.length - at);
        return out.toByteArray();
      }
      case 4 -> { // bytes deleted
        int at = rnd.nextInt(b.length);
        int n = Math.min(b.length - at, 1 + rnd.nextInt(16));
        byte[] out = new byte[b.length - n];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(b, at + n, out, at, b.length - at - n);
        return out;
      }
      case 5 -> { // the schema id or magic byte changed
        b[rnd.nextInt(5)] = (byte) rnd.nextInt(256);
        return b;
      }
      default -> {
        return b; // valid (it may still be a duplicate or carry an extreme field)
      }
    }
  }
}
