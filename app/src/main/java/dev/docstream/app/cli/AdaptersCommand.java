package dev.docstream.app.cli;

import dev.docstream.adapters.registry.AdapterId;
import dev.docstream.adapters.registry.AdapterRegistry;
import dev.docstream.adapters.registry.DirectoryBlobStore;
import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.adapters.registry.TypeState;
import dev.docstream.app.ShippedAdapters;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import dev.docstream.schemas.AdapterManifest;
import dev.docstream.schemas.AdapterVersion;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.training.HeldOutEvaluator;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code docstream adapters}: the adapters registry's lifecycle commands. */
@Command(
    name = "adapters",
    mixinStandardHelpOptions = true,
    description =
        "Publish, canary, promote, roll back and retire adapter versions in the registry "
            + "(adapters.manifests); workers and intake follow it without a restart. Each "
            + "subcommand has its own --help.",
    subcommands = {
      AdaptersCommand.Publish.class,
      AdaptersCommand.ListTypes.class,
      AdaptersCommand.Show.class,
      AdaptersCommand.Canary.class,
      AdaptersCommand.Promote.class,
      AdaptersCommand.Rollback.class,
      AdaptersCommand.Retire.class
    })
final class AdaptersCommand {
  private AdaptersCommand() {}

  /** Where the registry is: the cluster, its schema registry, the blob store. */
  static final class Where {
    @Mixin ClusterOptions cluster;

    @Option(
        names = "--blobs",
        defaultValue = "var/up/adapter-blobs",
        description = "The blob store folder (docstream up keeps it in its data folder).")
    Path blobs;

    AdapterRegistry open(boolean readOnly) {
      cluster.requireReachable();
      Map<String, Object> props = Map.of("bootstrap.servers", cluster.bootstrap);
      var serde =
          Topics.ADAPTERS_MANIFESTS.valueSerde(SchemaRegistries.forUrl(cluster.registry, null));
      if (readOnly) {
        return AdapterRegistry.openReader(
            props,
            Topics.ADAPTERS_MANIFESTS.name(),
            serde,
            new DirectoryBlobStore(blobs),
            Clock.systemUTC());
      }
      try {
        return AdapterRegistry.open(
            props,
            Topics.ADAPTERS_MANIFESTS.name(),
            serde,
            new DirectoryBlobStore(blobs),
            Clock.systemUTC());
      } catch (RegistryException e) {
        throw new UserError(e.getMessage());
      }
    }
  }

  /** A registry change: opens the registry, runs, turns a refusal into one error line. */
  abstract static class Change implements Callable<Integer> {
    @Mixin Where where;
    @Spec CommandSpec spec;

    abstract void run(AdapterRegistry registry, PrintWriter out) throws RegistryException;

    /** Whether the command only reads (it then fences no writer). */
    boolean readOnly() {
      return false;
    }

    @Override
    public final Integer call() {
      try (AdapterRegistry registry = where.open(readOnly())) {
        run(registry, spec.commandLine().getOut());
        spec.commandLine().getOut().flush();
        return 0;
      } catch (RegistryException e) {
        throw new UserError(e.getMessage());
      }
    }

    static AdapterId id(String text) throws RegistryException {
      return AdapterId.parse(text);
    }

    static void printState(PrintWriter out, TypeState s) {
      out.printf(
          "%s: promoted %s, canary %s%n",
          s.documentType(),
          s.promoted() == null
              ? "none" + (s.retired() ? " (type retired)" : "")
              : "@" + s.promoted(),
          s.canary() == null
              ? "none"
              : String.format(
                  Locale.ROOT, "@%d (%.1f %% of jobs)", s.canary(), 100 * s.canaryShare()));
    }
  }

  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      showDefaultValues = true,
      description =
          "Validate a PEFT adapter folder (adapter_config.json as DocStream or Python PEFT writes it, "
              + "adapter_model.safetensors) against the base model, run the evaluation gate against "
              + "the promoted version, store its blob and publish it as the type's next version "
              + "(a candidate: canary or promote it to serve).")
  static final class Publish extends Change {
    @Parameters(paramLabel = "DIR", description = "The adapter folder.")
    Path dir;

    @Option(
        names = "--document-type",
        description = "The document type, where the config has no docstream_document_type.")
    String documentType;

    @Option(names = "--models", defaultValue = "models", description = "Holds base/, the model.")
    Path models;

    @Option(
        names = "--max-bytes",
        defaultValue = "268435456",
        description = "Largest adapter_model.safetensors accepted.")
    long maxBytes;

    @Option(
        names = "--eval-docs",
        defaultValue = "64",
        description = "Held-out synthetic documents the gate scores; 0 skips the gate.")
    int evalDocs;

    @Option(
        names = "--margin",
        defaultValue = "0.02",
        description = "How far below the promoted version's field exact-match the new one may be.")
    double margin;

    @Option(names = "--force", description = "Publish even when the gate refuses.")
    boolean force;

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      Checks.requireModels(models);
      if (!Files.isDirectory(dir)) {
        throw new RegistryException(dir + ": not a folder");
      }
      Path base = models.resolve("base");
      try (Extractor extractor = Extractor.load(base);
          HeldOutEvaluator gate = evalDocs > 0 ? new HeldOutEvaluator(extractor, evalDocs) : null) {
        String sha = ModelCheckpoint.checksum(base);
        AdapterManifest m =
            registry.publish(
                new AdapterRegistry.PublishRequest(
                    dir,
                    documentType,
                    ShippedAdapters.baseModelId(sha),
                    sha,
                    extractor.block().moduleShapes(),
                    maxBytes,
                    gate,
                    margin,
                    force));
        Double score = m.getMetrics().get(AdapterRegistry.EXACT_MATCH);
        out.printf(
            "published %s (candidate): rank %d, %d modules, %d bytes, blob %s%s%n",
            m.getAdapterId(),
            m.getRank(),
            m.getTargetModules().size(),
            m.getSizeBytes(),
            m.getBlobUri(),
            score == null
                ? ", gate skipped"
                : String.format(
                    Locale.ROOT,
                    ", field exact-match %.4f on %d held-out documents",
                    score,
                    evalDocs));
      } catch (java.io.IOException e) {
        throw new RegistryException("cannot load the base model in " + base + ": " + e, e);
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Every document type with its promoted and canary versions.")
  static final class ListTypes extends Change {
    @Override
    boolean readOnly() {
      return true;
    }

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      Map<String, TypeState> types = registry.list();
      out.printf(
          "%-28s %-9s %-18s %-8s %s%n",
          "DOCUMENT TYPE", "PROMOTED", "CANARY", "VERSIONS", "LAST CHANGE");
      types.forEach(
          (type, s) ->
              out.printf(
                  "%-28s %-9s %-18s %-8d %s%n",
                  type,
                  s.promoted() == null ? (s.retired() ? "retired" : "-") : "@" + s.promoted(),
                  s.canary() == null
                      ? "-"
                      : String.format(
                          Locale.ROOT, "@%d %.1f %%", s.canary(), 100 * s.canaryShare()),
                  s.versions().size(),
                  s.latest().map(m -> m.getChange() + " " + m.getAdapterId()).orElse("")));
      out.println(types.size() + " document types");
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "One document type: its versions and its change history (the audit log).")
  static final class Show extends Change {
    @Parameters(paramLabel = "TYPE", description = "The document type.")
    String type;

    @Override
    boolean readOnly() {
      return true;
    }

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      TypeState s = registry.show(type);
      printState(out, s);
      out.println("versions:");
      for (AdapterVersion v : s.versions()) {
        Double score = v.getMetrics().get(AdapterRegistry.EXACT_MATCH);
        out.printf(
            "  @%-3d %-9s rank %-3d %9d bytes  exact-match %s  published %s  blob %s%n",
            v.getVersion(),
            v.getStatus(),
            v.getRank(),
            v.getSizeBytes(),
            score == null ? "  -   " : String.format(Locale.ROOT, "%.4f", score),
            v.getCreatedAt(),
            v.getBlobUri());
      }
      out.println("history:");
      for (AdapterManifest m : registry.history(type)) {
        out.printf("  %s  %-11s %s%n", m.getChangedAt(), m.getChange(), m.getAdapterId());
      }
    }
  }

  @Command(
      name = "canary",
      mixinStandardHelpOptions = true,
      description =
          "Serve a deterministic share of a type's jobs (by a hash of the job id) with a version, "
              + "beside the promoted one; --share 0 ends the canary.")
  static final class Canary extends Change {
    @Parameters(
        paramLabel = "TYPE@VERSION",
        description = "The version, for example GBR-PASSPORT-2000@2.")
    String adapter;

    @Option(names = "--share", required = true, description = "Share of the type's jobs, 0..1.")
    double share;

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      AdapterManifest m = registry.canary(id(adapter), share);
      out.printf(
          Locale.ROOT,
          "canary %s at %.1f %% of %s's jobs%n",
          adapter,
          100 * share,
          m.getDocumentType());
      printState(out, TypeState.of(m));
    }
  }

  @Command(
      name = "promote",
      mixinStandardHelpOptions = true,
      description = "Make a version serve its type (the promoted one goes onto the history).")
  static final class Promote extends Change {
    @Parameters(paramLabel = "TYPE@VERSION", description = "The version.")
    String adapter;

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      AdapterManifest m = registry.promote(id(adapter));
      out.println("promoted " + m.getAdapterId());
      printState(out, TypeState.of(m));
    }
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description =
          "Return a type to the version promoted before the current one; ends any canary.")
  static final class Rollback extends Change {
    @Parameters(paramLabel = "TYPE", description = "The document type.")
    String type;

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      AdapterManifest m = registry.rollback(type);
      out.println("rolled back " + type + " to " + m.getAdapterId());
      printState(out, TypeState.of(m));
    }
  }

  @Command(
      name = "retire",
      mixinStandardHelpOptions = true,
      description =
          "Retire a version: it never serves again. Retiring the promoted version retires the type "
              + "(intake dead-letters its jobs as DOCUMENT_TYPE_RETIRED).")
  static final class Retire extends Change {
    @Parameters(paramLabel = "TYPE@VERSION", description = "The version.")
    String adapter;

    @Override
    void run(AdapterRegistry registry, PrintWriter out) throws RegistryException {
      AdapterManifest m = registry.retire(id(adapter));
      out.println("retired " + m.getAdapterId());
      printState(out, TypeState.of(m));
    }
  }
}
