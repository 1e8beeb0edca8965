package dev.docstream.schemas.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.serde.AvroSerde;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The REST client against a local server that answers as Confluent's documents it. */
class RestSchemaRegistryTest {
  private HttpServer server;
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final Schema schema = AvroSerde.registrable(VerificationJob.getClassSchema());

  @BeforeEach
  void startServer() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String path = exchange.getRequestURI().getRawPath();
          calls.add(
              exchange.getRequestMethod()
                  + " "
                  + path
                  + " auth="
                  + exchange.getRequestHeaders().getFirst("Authorization")
                  + " type="
                  + exchange.getRequestHeaders().getFirst("Content-Type"));
          String reply;
          int status = 200;
          if (path.equals("/subjects/verification.jobs-value/versions")
              && body.contains("\"schema\"")) {
            reply = "{\"id\":17}";
          } else if (path.equals("/schemas/ids/17")) {
            reply =
                "{\"schema\":"
                    + com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.textNode(
                        schema.toString())
                    + "}";
          } else if (path.equals(
              "/compatibility/subjects/verification.jobs-value/versions/latest")) {
            reply = "{\"is_compatible\":false}";
          } else if (path.startsWith("/compatibility/subjects/")) {
            status = 404;
            reply = "{\"error_code\":40401,\"message\":\"Subject not found\"}";
          } else {
            status = 404;
            reply = "{\"error_code\":40403,\"message\":\"Schema not found\"}";
          }
          byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .add("Content-Type", "application/vnd.schemaregistry.v1+json");
          exchange.sendResponseHeaders(status, bytes.length);
          exchange.getResponseBody().write(bytes);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  private RestSchemaRegistry client() {
    return new RestSchemaRegistry(
        "http://127.0.0.1:" + server.getAddress().getPort(), "svc:secret", Duration.ofSeconds(5));
  }

  @Test
  void shouldRegisterOnceAndCacheTheId() {
    RestSchemaRegistry registry = client();
    assertEquals(17, registry.register("verification.jobs-value", schema));
    assertEquals(17, registry.register("verification.jobs-value", schema));
    assertEquals(1, calls.size(), calls.toString());
    assertEquals(
        "POST /subjects/verification.jobs-value/versions auth=Basic c3ZjOnNlY3JldA=="
            + " type=application/vnd.schemaregistry.v1+json",
        calls.get(0));
  }

  @Test
  void shouldFetchSchemaByIdAndCacheIt() {
    RestSchemaRegistry registry = client();
    assertEquals(schema, registry.getById(17));
    assertEquals(schema, registry.getById(17));
    assertEquals(1, calls.size());
  }

  @Test
  void shouldReportUnknownIdAsNotFound() {
    SchemaRegistryException e =
        assertThrows(SchemaRegistryException.class, () -> client().getById(99));
    assertTrue(e.isNotFound());
    assertEquals(SchemaRegistryException.SCHEMA_NOT_FOUND, e.errorCode());
  }

  @Test
  void shouldCheckCompatibilityAndTreatNewSubjectsAsCompatible() {
    assertFalse(client().isCompatible("verification.jobs-value", schema));
    assertTrue(client().isCompatible("brand.new-value", schema));
  }
}
