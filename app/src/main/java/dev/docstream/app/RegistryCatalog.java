package dev.docstream.app;

import dev.docstream.adapters.registry.ManifestView;
import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.adapters.registry.TypeState;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.topology.intake.DocumentTypeCatalog;
import dev.docstream.topology.intake.IntakeConfig;
import java.time.Duration;
import java.util.Map;

/** Intake's document types as the adapters registry has them, followed while intake runs. */
public final class RegistryCatalog implements DocumentTypeCatalog, AutoCloseable {
  private final ManifestView view;

  private RegistryCatalog(ManifestView view) {
    this.view = view;
  }

  /** Follows the manifests topic of intake's cluster. */
  public static RegistryCatalog follow(IntakeConfig config) throws RegistryException {
    return new RegistryCatalog(
        ManifestView.start(
            Map.of(
                "bootstrap.servers",
                config.getString(IntakeConfig.BOOTSTRAP_SERVERS_CONFIG),
                "client.id",
                "docstream-intake-manifests"),
            config.getString(IntakeConfig.MANIFESTS_TOPIC_CONFIG),
            Topics.ADAPTERS_MANIFESTS.valueSerde(
                SchemaRegistries.forUrl(config.schemaRegistryUrl(), config.schemaRegistryAuth())),
            Duration.ofSeconds(30)));
  }

  @Override
  public Status status(String documentType) {
    TypeState t = view.type(documentType);
    return t.served() ? Status.SERVED : t.retired() ? Status.RETIRED : Status.UNKNOWN;
  }

  /** The types served now. */
  public java.util.Set<String> served() {
    return view.servedTypes();
  }

  /** The view it follows (for the registry's HTTP API). */
  public ManifestView view() {
    return view;
  }

  @Override
  public void close() {
    view.close();
  }
}
