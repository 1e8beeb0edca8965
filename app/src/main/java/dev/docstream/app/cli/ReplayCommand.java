package dev.docstream.app.cli;

import dev.docstream.app.replay.FolderReplay;
import dev.docstream.app.replay.Replay;
import dev.docstream.schemas.registry.SchemaRegistries;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code docstream replay}. */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Replay a backlog as REPLAY jobs into intake's replay input (verification.jobs.replay), "
            + "from which intake routes them into the replay lane (workers serve it only while live jobs do not wait): dead letters after a fix "
            + "(--from dlq), a document type's jobs after a better adapter (--from jobs), or a "
            + "client's history (--from folder). A replay has an id: running it again resumes it "
            + "and never submits a job twice.")
final class ReplayCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;
  @Spec CommandSpec spec;

  @Option(names = "--from", required = true, description = "dlq, jobs or folder.")
  String from;

  @Option(
      names = "--id",
      description =
          "The replay's id (letters, digits, '.', '_', '-'); default: one derived from the selection, "
              + "so the same command resumes the same replay.")
  String id;

  @Option(names = "--reason", description = "With --from dlq: reason codes to take (repeatable).")
  List<String> reasons = List.of();

  @Option(names = "--document-type", description = "Document types to take (repeatable).")
  List<String> types = List.of();

  @Option(
      names = "--since",
      description = "Records from this instant (ISO-8601, for example 2026-12-01T00:00:00Z).")
  String since;

  @Option(names = "--until", description = "Records before this instant (ISO-8601).")
  String until;

  @Option(
      names = "--manifest",
      description = "With --from folder: the JSONL manifest (images beside it).")
  Path manifest;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "Jobs per second at most; 0 = no cap.")
  double rate;

  @Option(names = "--dry-run", description = "Count what would be replayed; submit nothing.")
  boolean dryRun;

  @Override
  public Integer call() throws IOException {
    Replay.Source source;
    switch (from) {
      case "dlq" -> source = Replay.Source.DLQ;
      case "jobs" -> source = Replay.Source.JOBS;
      case "folder" -> source = null;
      default ->
          throw new ParameterException(
              spec.commandLine(), "--from must be dlq, jobs or folder, not '" + from + "'");
    }
    if (rate < 0) {
      throw new ParameterException(spec.commandLine(), "--rate must be >= 0");
    }
    if (!reasons.isEmpty() && source != Replay.Source.DLQ) {
      throw new ParameterException(spec.commandLine(), "--reason only applies to --from dlq");
    }
    if (source == null && (manifest == null || !Files.isRegularFile(manifest))) {
      throw new ParameterException(
          spec.commandLine(), "--from folder needs --manifest FILE.jsonl (an existing file)");
    }
    Instant sinceAt = instant("--since", since);
    Instant untilAt = instant("--until", until);
    String replayId = id != null ? id : derivedId(sinceAt, untilAt);
    if (!replayId.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new ParameterException(
          spec.commandLine(), "--id must be 1-64 letters, digits, '.', '_' or '-'");
    }
    cluster.requireReachable();
    Map<String, Object> props = Map.of("bootstrap.servers", cluster.bootstrap);
    var registry = SchemaRegistries.forUrl(cluster.registry, null);
    Replay.Outcome o;
    if (source == null) {
      if (types.size() > 1) {
        throw new ParameterException(
            spec.commandLine(), "--from folder takes at most one --document-type");
      }
      o =
          FolderReplay.run(
              props,
              registry,
              replayId,
              manifest,
              types.isEmpty() ? null : types.get(0),
              rate,
              dryRun,
              Clock.systemUTC());
    } else {
      o =
          Replay.run(
              props,
              registry,
              replayId,
              new Replay.Selection(
                  source, Set.copyOf(reasons), Set.copyOf(types), sinceAt, untilAt),
              rate,
              dryRun,
              Clock.systemUTC());
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "replay %s: %d records read, %d jobs %s%s%n",
        replayId,
        o.read(),
        o.submitted(),
        dryRun ? "would be submitted (dry run)" : "submitted",
        o.skipped().isEmpty() ? "" : ", skipped " + o.skipped());
    if (o.read() == 0) {
      out.println("nothing left to replay: the replay had read its whole slice already");
    }
    out.flush();
    return 0;
  }

  private Instant instant(String option, String text) {
    if (text == null) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new ParameterException(
          spec.commandLine(), option + " must be an ISO-8601 instant such as 2026-12-01T00:00:00Z");
    }
  }

  /** The same selection gives the same id, so the same command resumes the same replay. */
  private String derivedId(Instant sinceAt, Instant untilAt) {
    String key =
        String.join(
            "|",
            from,
            String.join(",", new TreeSet<>(reasons)),
            String.join(",", new TreeSet<>(types)),
            String.valueOf(sinceAt),
            String.valueOf(untilAt),
            manifest == null ? "" : manifest.toAbsolutePath().normalize().toString());
    return from + "-" + Integer.toHexString(key.hashCode() & 0x7fffffff);
  }
}
