package dev.docstream.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The in-memory registry served over HTTP with the subset of Confluent's REST API that standard
 * clients call to register and decode: {@code GET /schemas/ids/{id}}, {@code GET /subjects}, {@code
 * GET|POST /subjects/{subject}/versions[/{version}|/latest]}, {@code GET|PUT /config/{subject}} and
 * {@code POST /compatibility/subjects/{subject}/versions/latest}. Avro schemas only.
 */
public final class RegistryServer implements AutoCloseable {
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final InMemorySchemaRegistry registry;
  private final HttpServer server;

  /** Serves {@code registry} on {@code port} (0 = any free port) on localhost. */
  public RegistryServer(InMemorySchemaRegistry registry, int port) throws IOException {
    this.registry = registry;
    this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The base URL clients use. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      String method = ex.getRequestMethod();
      String[] p = ex.getRequestURI().getRawPath().replaceAll("^/+|/+$", "").split("/");
      for (int i = 0; i < p.length; i++) {
        p[i] = URLDecoder.decode(p[i], StandardCharsets.UTF_8);
      }
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      if (p.length == 3 && p[0].equals("schemas") && p[1].equals("ids") && method.equals("GET")) {
        reply(
            ex,
            200,
            JSON.createObjectNode()
                .put("schema", registry.getById(Integer.parseInt(p[2])).toString()));
      } else if (p.length == 1 && p[0].equals("subjects") && method.equals("GET")) {
        reply(ex, 200, JSON.valueToTree(registry.subjects()));
      } else if (p.length == 3
          && p[0].equals("subjects")
          && p[2].equals("versions")
          && method.equals("POST")) {
        reply(ex, 200, JSON.createObjectNode().put("id", registry.register(p[1], schema(body))));
      } else if (p.length == 3
          && p[0].equals("subjects")
          && p[2].equals("versions")
          && method.equals("GET")) {
        List<Integer> versions = versions(p[1]);
        var arr = JSON.createArrayNode();
        for (int v = 1; v <= versions.size(); v++) {
          arr.add(v);
        }
        reply(ex, 200, arr);
      } else if (p.length == 4
          && p[0].equals("subjects")
          && p[2].equals("versions")
          && method.equals("GET")) {
        List<Integer> versions = versions(p[1]);
        int v =
            p[3].equals("latest") || p[3].equals("-1") ? versions.size() : Integer.parseInt(p[3]);
        if (v < 1 || v > versions.size()) {
          throw new SchemaRegistryException(404, 40402, "Version not found", null);
        }
        int id = versions.get(v - 1);
        reply(
            ex,
            200,
            JSON.createObjectNode()
                .put("subject", p[1])
                .put("version", v)
                .put("id", id)
                .put("schema", registry.getById(id).toString()));
      } else if (p.length == 2 && p[0].equals("config") && method.equals("GET")) {
        reply(
            ex,
            200,
            JSON.createObjectNode().put("compatibilityLevel", registry.compatibility(p[1])));
      } else if (p.length == 2 && p[0].equals("config") && method.equals("PUT")) {
        String level = JSON.readTree(body).path("compatibility").asText("");
        if (!List.of("BACKWARD", "NONE").contains(level)) {
          throw new SchemaRegistryException(
              422, 42203, "Invalid compatibility level (BACKWARD or NONE)", null);
        }
        registry.setCompatibility(p[1], level);
        reply(ex, 200, JSON.createObjectNode().put("compatibility", level));
      } else if (p.length == 5
          && p[0].equals("compatibility")
          && p[1].equals("subjects")
          && p[3].equals("versions")
          && method.equals("POST")) {
        reply(
            ex,
            200,
            JSON.createObjectNode()
                .put("is_compatible", registry.isCompatible(p[2], schema(body))));
      } else {
        throw new SchemaRegistryException(
            404, 404, "Not found: " + method + " " + ex.getRequestURI().getPath(), null);
      }
    } catch (SchemaRegistryException e) {
      reply(
          ex,
          e.status(),
          JSON.createObjectNode().put("error_code", e.errorCode()).put("message", e.getMessage()));
    } catch (SchemaParseException | IOException | NumberFormatException e) {
      reply(
          ex,
          422,
          JSON.createObjectNode()
              .put("error_code", 42201)
              .put("message", "Invalid schema or request: " + e.getMessage()));
    }
  }

  private List<Integer> versions(String subject) {
    List<Integer> v = registry.versions(subject);
    if (v.isEmpty()) {
      throw new SchemaRegistryException(404, 40401, "Subject '" + subject + "' not found.", null);
    }
    return v;
  }

  private static Schema schema(String body) throws IOException {
    JsonNode n = JSON.readTree(body);
    String type = n.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new SchemaParseException("only AVRO schemas are served, got " + type);
    }
    return new Schema.Parser().parse(n.path("schema").asText());
  }

  private static void reply(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    ex.getResponseHeaders().add("Content-Type", CONTENT_TYPE);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
