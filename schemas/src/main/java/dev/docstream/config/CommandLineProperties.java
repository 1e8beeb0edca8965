package dev.docstream.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;

/**
 * The command line every DocStream component takes: {@code [--config FILE] [key=value ...]}, a
 * properties file overridden by single keys, as Kafka's own tools do.
 */
public final class CommandLineProperties {
  private CommandLineProperties() {}

  /** The properties named on the command line; later arguments override earlier ones. */
  public static Properties parse(String[] args) throws IOException {
    Properties p = new Properties();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        try (Reader r = Files.newBufferedReader(Path.of(args[++i]))) {
          p.load(r);
        }
      } else if (args[i].contains("=")) {
        String[] kv = args[i].split("=", 2);
        p.put(kv[0], kv[1]);
      } else {
        throw new ConfigException("unexpected argument '" + args[i] + "' (see --help)");
      }
    }
    return p;
  }
}
