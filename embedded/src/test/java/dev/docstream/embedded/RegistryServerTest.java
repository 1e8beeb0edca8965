package dev.docstream.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.RestSchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RegistryServerTest {
  private static final String SCOPE = "registry-server-test";
  private RegistryServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    server = new RegistryServer(InMemorySchemaRegistry.scope(SCOPE), 0);
  }

  @AfterEach
  void stop() {
    server.close();
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  private HttpResponse<String> call(String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.url() + path))
            .header("Content-Type", "application/vnd.schemaregistry.v1+json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldServeWhatTheRestClientAndSerdeNeed() {
    RestSchemaRegistry client = new RestSchemaRegistry(server.url(), null, Duration.ofSeconds(5));
    AvroSerde<VerificationJob> writer = Topics.VERIFICATION_JOBS.valueSerde(client);
    VerificationJob job =
        dev.docstream.schemas.VerificationJob.newBuilder()
            .setJobId("j")
            .setTenantId("t")
            .setDocumentType("GBR-PASSPORT-2015")
            .setSubmittedAt(java.time.Instant.ofEpochMilli(5))
            .build();
    byte[] bytes = writer.serialize(Topics.VERIFICATION_JOBS.name(), job);
    // Another client (a fresh cache) decodes by fetching the schema by id over HTTP.
    AvroSerde<VerificationJob> reader =
        Topics.VERIFICATION_JOBS.valueSerde(
            new RestSchemaRegistry(server.url(), null, Duration.ofSeconds(5)));
    assertEquals(job, reader.deserialize(Topics.VERIFICATION_JOBS.name(), bytes));
    assertTrue(
        client.isCompatible(
            "verification.jobs-value", AvroSerde.registrable(VerificationJob.getClassSchema())));
  }

  @Test
  void shouldAnswerSubjectVersionAndConfigQueries() throws Exception {
    ObjectMapper json = new ObjectMapper();
    String schema = AvroSerde.registrable(VerificationJob.getClassSchema()).toString();
    String body = json.createObjectNode().put("schema", schema).toString();
    JsonNode registered = json.readTree(call("POST", "/subjects/jobs-value/versions", body).body());
    int id = registered.get("id").asInt();
    assertEquals("[\"jobs-value\"]", call("GET", "/subjects", null).body());
    assertEquals("[1]", call("GET", "/subjects/jobs-value/versions", null).body());
    JsonNode latest =
        json.readTree(call("GET", "/subjects/jobs-value/versions/latest", null).body());
    assertEquals(id, latest.get("id").asInt());
    assertEquals(1, latest.get("version").asInt());
    assertEquals(
        new Schema.Parser().parse(schema),
        new Schema.Parser().parse(latest.get("schema").asText()));
    assertEquals(
        "BACKWARD",
        json.readTree(call("GET", "/config/jobs-value", null).body())
            .get("compatibilityLevel")
            .asText());

    // A new required field breaks BACKWARD compatibility: refused with 409, accepted after PUT
    // NONE.
    String broken =
        schema.replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"x\",\"type\":\"string\"},");
    String brokenBody = json.createObjectNode().put("schema", broken).toString();
    assertFalse(
        json.readTree(
                call("POST", "/compatibility/subjects/jobs-value/versions/latest", brokenBody)
                    .body())
            .get("is_compatible")
            .asBoolean());
    assertEquals(409, call("POST", "/subjects/jobs-value/versions", brokenBody).statusCode());
    assertEquals(
        200, call("PUT", "/config/jobs-value", "{\"compatibility\":\"NONE\"}").statusCode());
    assertEquals(200, call("POST", "/subjects/jobs-value/versions", brokenBody).statusCode());

    HttpResponse<String> missing = call("GET", "/schemas/ids/999", null);
    assertEquals(404, missing.statusCode());
    assertEquals(40403, json.readTree(missing.body()).get("error_code").asInt());
    assertEquals(
        40401,
        json.readTree(call("GET", "/subjects/nope/versions", null).body())
            .get("error_code")
            .asInt());
  }
}
