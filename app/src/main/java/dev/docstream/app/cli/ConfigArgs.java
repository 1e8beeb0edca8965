package dev.docstream.app.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;

/**
 * A component's settings from the command line, as Kafka's own tools take them: a properties file
 * ({@code --config FILE}) overridden by single {@code key=value} arguments. A file that does not
 * exist, or a key the component does not declare, is refused with one line.
 */
final class ConfigArgs {
  private ConfigArgs() {}

  /**
   * @param allowedPrefixes key prefixes passed through undeclared (for example {@code consumer.})
   */
  static Map<String, Object> read(
      Path file, List<String> pairs, ConfigDef definition, Set<String> allowedPrefixes) {
    Properties p = new Properties();
    if (file != null) {
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      } catch (NoSuchFileException e) {
        throw new UserError("config file " + file + " does not exist");
      } catch (IOException e) {
        throw new UserError("config file " + file + " could not be read: " + e.getMessage());
      }
    }
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new UserError("'" + pair + "' is not key=value");
      }
      p.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    Map<String, Object> out = new HashMap<>();
    for (String key : p.stringPropertyNames()) {
      boolean known =
          definition.names().contains(key) || allowedPrefixes.stream().anyMatch(key::startsWith);
      if (!known) {
        throw new UserError(
            "unknown key '" + key + "' (see --help for the keys this command takes)");
      }
      out.put(key, p.getProperty(key));
    }
    return out;
  }
}
