package dev.docstream.app.cli;

/** The {@code docstream} command's entry point. */
public final class Docstream {
  private Docstream() {}

  public static void main(String[] args) {
    System.exit(DocstreamCommand.execute(args));
  }
}
