package dev.docstream.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A client for the documented Confluent Schema Registry REST API. Confluent's own Java client is
 * not published on Maven Central, so DocStream carries this small one: register under a subject,
 * fetch by id, compatibility check. Ids and schemas are cached for the life of the client. Basic
 * auth comes from {@code user:password}; TLS uses the JDK's trust store ({@code
 * javax.net.ssl.trustStore} and friends).
 */
public final class RestSchemaRegistry implements SchemaRegistry {
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final String authorization;
  private final HttpClient http;
  private final Duration timeout;
  private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
  private final Map<String, Integer> ids = new ConcurrentHashMap<>();

  /**
   * @param baseUrl for example {@code https://registry.example:8081}
   * @param basicAuthUserInfo {@code user:password}, or null for none
   */
  public RestSchemaRegistry(String baseUrl, String basicAuthUserInfo, Duration timeout) {
    this.base = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
    this.authorization =
        basicAuthUserInfo == null || basicAuthUserInfo.isEmpty()
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString(basicAuthUserInfo.getBytes(StandardCharsets.UTF_8));
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public int register(String subject, Schema schema) {
    String key = subject + "\n" + schema;
    Integer cached = ids.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode reply = call("POST", "subjects/" + encode(subject) + "/versions", schemaBody(schema));
    int id = reply.get("id").asInt();
    ids.put(key, id);
    schemas.putIfAbsent(id, schema);
    return id;
  }

  @Override
  public Schema getById(int id) {
    Schema cached = schemas.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode reply = call("GET", "schemas/ids/" + id, null);
    Schema schema = new Schema.Parser().parse(reply.get("schema").asText());
    schemas.put(id, schema);
    return schema;
  }

  @Override
  public boolean isCompatible(String subject, Schema schema) {
    try {
      JsonNode reply =
          call(
              "POST",
              "compatibility/subjects/" + encode(subject) + "/versions/latest",
              schemaBody(schema));
      return reply.get("is_compatible").asBoolean();
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return true; // no version yet: anything is compatible
      }
      throw e;
    }
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private JsonNode call(String method, String path, String body) {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(timeout)
            .header("Accept", CONTENT_TYPE)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      req.header("Content-Type", CONTENT_TYPE);
    }
    if (authorization != null) {
      req.header("Authorization", authorization);
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new SchemaRegistryException(
          -1, -1, "schema registry " + base + " unreachable: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException(-1, -1, "interrupted calling schema registry " + base, e);
    }
    JsonNode json;
    try {
      json = JSON.readTree(resp.body().isEmpty() ? "{}" : resp.body());
    } catch (IOException e) {
      throw new SchemaRegistryException(
          resp.statusCode(),
          -1,
          "schema registry "
              + base
              + " answered "
              + resp.statusCode()
              + " with a body that is not JSON",
          e);
    }
    if (resp.statusCode() / 100 != 2) {
      int code = json.path("error_code").asInt(-1);
      throw new SchemaRegistryException(
          resp.statusCode(),
          code,
          "schema registry "
              + method
              + " /"
              + path
              + " failed: "
              + resp.statusCode()
              + " "
              + json.path("message").asText(""),
          null);
    }
    return json;
  }
}
