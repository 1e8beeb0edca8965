package dev.docstream.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.docstream.schemas.InlineImage;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.RestSchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {
  private static final String SCOPE = "avro-serde-test";
  private static final String TOPIC = Topics.VERIFICATION_JOBS.name();
  private final AvroSerde<VerificationJob> serde =
      Topics.VERIFICATION_JOBS.valueSerde(SchemaRegistries.forUrl("mock://" + SCOPE, null));

  @AfterEach
  void dropRegistry() {
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  static VerificationJob job() {
    return VerificationJob.newBuilder()
        .setJobId("job-1")
        .setTenantId("tenant-a")
        .setDocumentType("GBR-PASSPORT-2015")
        .setImage(
            InlineImage.newBuilder()
                .setData(ByteBuffer.wrap(new byte[] {1, 2, 3}))
                .setSha256(null)
                .build())
        .setRequestedFields(List.of("SURNAME", "DATE_OF_BIRTH"))
        .setSubmittedAt(Instant.ofEpochMilli(1_700_000_000_123L))
        .setPriority(Priority.REPLAY)
        .build();
  }

  @Test
  void shouldRoundTripRecordThroughWireFormat() {
    byte[] bytes = serde.serialize(TOPIC, job());
    assertEquals(0, bytes[0], "magic byte");
    int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
    assertEquals(InMemorySchemaRegistry.scope(SCOPE).versions(TOPIC + "-value"), List.of(id));
    assertEquals(job(), serde.deserialize(TOPIC, bytes));
  }

  @Test
  void shouldRegisterSchemaWithoutJavaOnlyProperties() {
    serde.serialize(TOPIC, job());
    int id = InMemorySchemaRegistry.scope(SCOPE).versions(TOPIC + "-value").get(0);
    String registered = InMemorySchemaRegistry.scope(SCOPE).getById(id).toString();
    assertEquals(-1, registered.indexOf("avro.java.string"), registered);
  }

  @Test
  void shouldFailWithUnknownMagicByte() {
    byte[] bytes = serde.serialize(TOPIC, job());
    bytes[0] = 1;
    WireFormatException e =
        assertThrows(WireFormatException.class, () -> serde.deserialize(TOPIC, bytes));
    assertEquals(WireFormatException.Reason.UNKNOWN_MAGIC_BYTE, e.reason());
  }

  @Test
  void shouldFailWithUnknownSchemaId() {
    byte[] bytes = serde.serialize(TOPIC, job());
    ByteBuffer.wrap(bytes, 1, 4).putInt(4242);
    WireFormatException e =
        assertThrows(WireFormatException.class, () -> serde.deserialize(TOPIC, bytes));
    assertEquals(WireFormatException.Reason.UNKNOWN_SCHEMA_ID, e.reason());
  }

  @Test
  void shouldFailWithCorruptPayloadWhenTruncated() {
    byte[] bytes = serde.serialize(TOPIC, job());
    for (int cut : new int[] {3, 5, 9, bytes.length - 1}) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      WireFormatException e =
          assertThrows(
              WireFormatException.class,
              () -> serde.deserialize(TOPIC, truncated),
              "cut at " + cut);
      assertEquals(WireFormatException.Reason.CORRUPT_PAYLOAD, e.reason(), "cut at " + cut);
    }
  }

  @Test
  void shouldFailWithCorruptPayloadOnTrailingGarbage() {
    byte[] bytes = serde.serialize(TOPIC, job());
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
    WireFormatException e =
        assertThrows(WireFormatException.class, () -> serde.deserialize(TOPIC, longer));
    assertEquals(WireFormatException.Reason.CORRUPT_PAYLOAD, e.reason());
  }

  @Test
  void shouldFailWithRegistryUnavailableWhenRegistryIsDown() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    AvroSerde<VerificationJob> remote =
        new AvroSerde<>(
            VerificationJob.class,
            new RestSchemaRegistry("http://127.0.0.1:" + port, null, Duration.ofSeconds(2)));
    byte[] bytes = serde.serialize(TOPIC, job());
    WireFormatException read =
        assertThrows(WireFormatException.class, () -> remote.deserialize(TOPIC, bytes));
    assertEquals(WireFormatException.Reason.REGISTRY_UNAVAILABLE, read.reason());
    WireFormatException write =
        assertThrows(WireFormatException.class, () -> remote.serialize(TOPIC, job()));
    assertEquals(WireFormatException.Reason.REGISTRY_UNAVAILABLE, write.reason());
  }

  @Test
  void shouldReadBytesWrittenWithTheSameIdByAnotherSerde() {
    byte[] bytes = serde.serialize(TOPIC, job());
    AvroSerde<VerificationJob> other =
        new AvroSerde<>(VerificationJob.class, InMemorySchemaRegistry.scope(SCOPE));
    assertArrayEquals(bytes, other.serialize(TOPIC, job()));
  }
}
