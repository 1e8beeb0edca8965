package dev.docstream.app.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * A component's settings, as Kafka's own tools take them: {@code [--config FILE] [key=value ...]}.
 */
final class ComponentSettings {
  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A properties file of configuration keys.")
  Path config;

  @Parameters(
      paramLabel = "key=value",
      arity = "0..*",
      description = "Configuration keys (they override --config).")
  List<String> settings = new ArrayList<>();

  /** The settings, refusing a missing file or a key {@code definition} does not declare. */
  Map<String, Object> read(ConfigDef definition, Set<String> allowedPrefixes) {
    return ConfigArgs.read(config, settings, definition, allowedPrefixes);
  }
}
