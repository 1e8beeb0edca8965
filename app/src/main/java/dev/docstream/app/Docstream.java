package dev.docstream.app;

import dev.docstream.app.cli.DocstreamCommand;

/** The {@code docstream} command's entry point; the commands are in {@code cli/}. */
public final class Docstream {
  private Docstream() {}

  public static void main(String[] args) {
    System.exit(DocstreamCommand.execute(args));
  }
}
