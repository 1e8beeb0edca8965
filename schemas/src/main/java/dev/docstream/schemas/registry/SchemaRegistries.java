package dev.docstream.schemas.registry;

import java.time.Duration;

/** Chooses a registry implementation by URL, as Confluent's serdes do. */
public final class SchemaRegistries {
  /** Prefix of in-memory registry URLs: {@code mock://<scope>}. */
  public static final String MOCK_PREFIX = "mock://";

  private SchemaRegistries() {}

  /**
   * The registry at a URL: {@code mock://<scope>} is the in-memory registry of that scope; {@code
   * http(s)://...} is a Confluent-compatible registry over REST.
   *
   * @param basicAuthUserInfo {@code user:password} for REST registries, or null
   */
  public static SchemaRegistry forUrl(String url, String basicAuthUserInfo) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          "schema.registry.url must be set (mock://<scope> or http(s)://host:port)");
    }
    if (url.startsWith(MOCK_PREFIX)) {
      return InMemorySchemaRegistry.scope(url.substring(MOCK_PREFIX.length()));
    }
    if (url.startsWith("http://") || url.startsWith("https://")) {
      return new RestSchemaRegistry(url, basicAuthUserInfo, Duration.ofSeconds(10));
    }
    throw new IllegalArgumentException(
        "schema.registry.url '" + url + "' must start with mock://, http:// or https://");
  }
}
