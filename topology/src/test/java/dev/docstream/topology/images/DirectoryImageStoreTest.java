package dev.docstream.topology.images;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryImageStoreTest {
  private static final String SHA = "ab".repeat(32);
  private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

  @TempDir Path tmp;

  private DirectoryImageStore store(Instant now) {
    return new DirectoryImageStore(tmp, Duration.ofDays(30), Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void shouldReturnAStoredImageUntilItsRetentionEnds() throws Exception {
    store(T0).put(SHA, new byte[] {1, 2, 3});
    assertArrayEquals(
        new byte[] {1, 2, 3}, store(T0.plus(Duration.ofDays(29))).get(SHA).orElseThrow());
    assertTrue(store(T0.plus(Duration.ofDays(31))).get(SHA).isEmpty(), "expired: not served");
  }

  @Test
  void shouldDeleteOnlyExpiredImagesWhenSwept() throws Exception {
    String other = "cd".repeat(32);
    store(T0).put(SHA, new byte[] {1});
    store(T0.plus(Duration.ofDays(20))).put(other, new byte[] {2});
    assertEquals(1, store(T0).sweep(T0.plus(Duration.ofDays(31))));
    assertTrue(store(T0).get(SHA).isEmpty());
    assertArrayEquals(new byte[] {2}, store(T0.plus(Duration.ofDays(31))).get(other).orElseThrow());
  }

  @Test
  void shouldRenewRetentionWhenTheSameImageIsStoredAgain() throws Exception {
    store(T0).put(SHA, new byte[] {1});
    store(T0.plus(Duration.ofDays(25))).put(SHA, new byte[] {1});
    assertEquals(0, store(T0).sweep(T0.plus(Duration.ofDays(40))));
  }

  @Test
  void shouldRefuseANameThatIsNotASha256() {
    assertThrows(IllegalArgumentException.class, () -> store(T0).get("../../etc/passwd"));
    assertThrows(IllegalArgumentException.class, () -> store(T0).get("AB".repeat(32)));
  }
}
