package dev.docstream.training;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** Minimal {@code --key value} parsing that rejects unknown keys by name. */
public final class CliArgs {
  private final Map<String, String> values = new HashMap<>();

  public CliArgs(String[] args, int from, Set<String> known) {
    for (int i = from; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
      String key = a.substring(2);
      String value = null;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      }
      if (!known.contains(key)) {
        throw new IllegalArgumentException("unknown option --" + key + " (see --help)");
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option --" + key + " needs a value");
        }
        value = args[++i];
      }
      values.put(key, value);
    }
  }

  /**
   * True when a command line asks for help: no command, the command {@code help}, or
   * {@code --help} / {@code -h} anywhere (so {@code docstream bench --help} shows the options).
   */
  public static boolean asksForHelp(String[] args) {
    return args.length == 0 || args[0].equals("help") || java.util.Arrays.stream(args)
        .anyMatch(a -> a.equals("--help") || a.equals("-h"));
  }

  public String get(String key, String def) {
    return values.getOrDefault(key, def);
  }

  public int getInt(String key, int def) {
    return values.containsKey(key) ? Integer.parseInt(values.get(key)) : def;
  }

  public long getLong(String key, long def) {
    return values.containsKey(key) ? Long.parseLong(values.get(key)) : def;
  }

  public float getFloat(String key, float def) {
    return values.containsKey(key) ? Float.parseFloat(values.get(key)) : def;
  }
}
