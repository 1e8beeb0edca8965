package dev.docstream.topology.intake;

import dev.docstream.schemas.ImageReference;
import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.topology.intake.internal.JobValidator;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import javax.imageio.ImageIO;

/** Jobs for intake tests: a real PNG, and each way a job can be wrong. */
public final class TestJobs {
  public static final byte[] PNG = png(64, 32);

  private TestJobs() {}

  public static byte[] png(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.BLACK);
    g.drawString("ID", 4, h / 2);
    g.dispose();
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A PNG of random pixels: it does not compress, so its size follows its area. */
  public static byte[] noisyPng(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    java.util.Random rnd = new java.util.Random(1);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rnd.nextInt(0x1000000));
      }
    }
    try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static VerificationJob.Builder job(String id, String type) {
    return VerificationJob.newBuilder()
        .setJobId(id)
        .setTenantId("tenant-a")
        .setDocumentType(type)
        .setImage(
            InlineImage.newBuilder()
                .setData(ByteBuffer.wrap(PNG))
                .setSha256(JobValidator.sha256(PNG))
                .build())
        .setRequestedFields(List.of())
        .setSubmittedAt(Instant.ofEpochMilli(1_000))
        .setPriority(Priority.LIVE);
  }

  public static InlineImage inline(byte[] bytes, String sha) {
    return InlineImage.newBuilder().setData(ByteBuffer.wrap(bytes)).setSha256(sha).build();
  }

  public static ImageReference reference(String uri, String sha) {
    return ImageReference.newBuilder().setUri(uri).setSha256(sha).build();
  }
}
