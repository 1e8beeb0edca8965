package dev.docstream.app.registry;

import dev.docstream.app.cli.DocstreamCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs {@code docstream adapters ...} in this JVM against a cluster, capturing its output. */
record AdaptersCli(String bootstrap, String registryUrl, Path blobs, Path models) {
  record Run(int code, String out, String err) {}

  Run run(String... args) {
    List<String> all = new ArrayList<>(List.of("adapters"));
    all.addAll(List.of(args));
    all.addAll(
        List.of("--bootstrap", bootstrap, "--registry", registryUrl, "--blobs", blobs.toString()));
    if (args[0].equals("publish")) {
      all.addAll(List.of("--models", models.toString()));
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        DocstreamCommand.execute(
            new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }
}
