package dev.docstream.training.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.docstream.inference.model.ModelConfig;
import dev.docstream.schemas.DocumentField;
import dev.docstream.training.BaseTraining;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchFeedTest {
  private static final List<String> TYPES = BaseTraining.baseTypes(20);

  private static byte[] feed(int threads, long seed) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BatchFeed.write(TYPES, 3, ModelConfig.standard(), seed, threads, 4, out);
    return out.toByteArray();
  }

  @Test
  void shouldWriteTheSameBatchesWhateverTheThreadCount() throws Exception {
    byte[] one = feed(1, 3);
    assertArrayEquals(one, feed(3, 3));
    // and another seed gives other batches
    assertEquals(one.length, feed(1, 4).length);
    org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(one, feed(1, 4)));
  }

  @Test
  void shouldFrameEachBatchWithMagicAndSizeThenTheFourArrays() throws Exception {
    ModelConfig c = ModelConfig.standard();
    int f = DocumentField.values().length;
    long floatsPerImage =
        (long) c.imageHeight() * c.imageWidth()
            + 2L * f * c.frames()
            + (long) c.gridHeight() * c.gridWidth() * f;
    byte[] bytes = feed(2, 3);
    long record = 8 + 4 * 3 * floatsPerImage;
    assertEquals(4 * record, bytes.length);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) {
      assertEquals(BatchFeed.MAGIC, buf.getInt((int) (i * record)));
      assertEquals(3, buf.getInt((int) (i * record) + 4));
    }
  }
}
