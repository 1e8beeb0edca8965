package dev.docstream.app.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code docstream train adapter}'s reviewed-document options, refused before any training. */
class TrainAdapterCommandTest {
  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        DocstreamCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  private Run train(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "train",
                "adapter",
                "--type",
                "GBR-PASSPORT-2000",
                "--out",
                dir.resolve("adapter").toString()));
    args.addAll(List.of(more));
    return run(args.toArray(String[]::new));
  }

  private static void assertOneLineError(Run r, String expected) {
    assertEquals(DocstreamCommand.FAILED, r.code(), r.err());
    assertEquals(1, r.err().trim().lines().count(), r.err());
    assertTrue(r.err().startsWith("error: ") && r.err().contains(expected), r.err());
  }

  @Test
  void shouldListTheReviewedOptionsInItsHelp() {
    Run r = run("train", "adapter", "--help");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("--reviewed=<reviewed>"), r.out());
    assertTrue(r.out().contains("--reviewed-share=<reviewedShare>"), r.out());
    assertTrue(r.out().contains("Default: 0.25"), r.out());
    assertTrue(r.out().contains("--init=<init>"), r.out());
  }

  @Test
  void shouldRefuseAReviewedShareWithoutReviewedDocumentsOrOutsideZeroToOne() {
    assertOneLineError(train("--reviewed-share", "0.5"), "--reviewed-share applies to --reviewed");
    assertOneLineError(
        train("--reviewed", dir.toString(), "--reviewed-share", "1"), "above 0 and below 1");
    assertOneLineError(
        train("--reviewed", dir.toString(), "--batch", "1"), "no room for reviewed documents");
  }

  @Test
  void shouldRefuseAReviewedFolderInOneLineNamingTheManifestLine() throws Exception {
    assertOneLineError(train("--reviewed", dir.toString()), "no manifest.jsonl in");
    Files.writeString(
        dir.resolve("manifest.jsonl"),
        "{\"document_type\":\"GBR-PASSPORT-2000\",\"image\":\"images/a.png\",\"labels\":{}}\n"
            + "{\"document_type\":\"GBR-PASSPORT-2000\",\"labels\":{\"SURNAME\":\"DEVRIES");
    Run r = train("--reviewed", dir.toString());
    assertOneLineError(r, "manifest.jsonl line 1: image file is missing");
    Files.createDirectories(dir.resolve("images"));
    Files.writeString(dir.resolve("images/a.png"), "x");
    r = train("--reviewed", dir.toString());
    assertOneLineError(r, "line 1: image file is not a PNG or JPEG");
    Files.writeString(dir.resolve("manifest.jsonl"), "\n{\"labels\":{\"SURNAME\":\"DEVRIES");
    r = train("--reviewed", dir.toString());
    assertOneLineError(r, "manifest.jsonl line 2: not JSON");
    assertFalse(r.err().contains("DEVRIES"), r.err());
  }
}
