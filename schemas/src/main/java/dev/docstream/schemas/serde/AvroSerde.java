package dev.docstream.schemas.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro values in the Confluent wire format: byte 0 = 0, a 4-byte big-endian schema id, then Avro
 * binary. Schemas are registered under the subject {@code <topic>-value}; a reader decodes with the
 * writer's schema fetched by id and resolves it to its own class's schema, so old records stay
 * readable after a compatible change.
 *
 * @param <T> the generated record class
 */
public final class AvroSerde<T extends SpecificRecord>
    implements Serde<T>, Serializer<T>, Deserializer<T> {
  private static final byte MAGIC = 0;
  private static final ObjectMapper JSON = new ObjectMapper();

  static {
    AvroLimits.install(); // before this class decodes anything
  }

  private final SchemaRegistry registry;
  private final Schema readerSchema;
  private final Schema registrableSchema;
  private final SpecificDatumWriter<T> writer;
  private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();

  /** Schema id per topic: registered once, not rendered and looked up for every record. */
  private final Map<String, Integer> writerIds = new ConcurrentHashMap<>();

  /** A serde for records of {@code type}, talking to {@code registry}. */
  public AvroSerde(Class<T> type, SchemaRegistry registry) {
    this.registry = registry;
    this.readerSchema = schemaOf(type);
    this.registrableSchema = registrable(readerSchema);
    this.writer = new SpecificDatumWriter<>(readerSchema);
  }

  @Override
  public byte[] serialize(String topic, T record) {
    if (record == null) {
      return null;
    }
    int id;
    try {
      id =
          writerIds.computeIfAbsent(topic, t -> registry.register(t + "-value", registrableSchema));
    } catch (SchemaRegistryException e) {
      throw new WireFormatException(
          e.isUnavailable()
              ? WireFormatException.Reason.REGISTRY_UNAVAILABLE
              : WireFormatException.Reason.SCHEMA_REJECTED,
          "could not register "
              + readerSchema.getName()
              + " under "
              + topic
              + "-value: "
              + e.getMessage(),
          e);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    out.write(MAGIC);
    out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new WireFormatException(
          WireFormatException.Reason.CORRUPT_PAYLOAD,
          "could not encode a "
              + readerSchema.getName()
              + " for "
              + topic
              + ": "
              + e.getClass().getSimpleName(),
          e);
    }
    return out.toByteArray();
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    if (data.length < 5) {
      throw new WireFormatException(
          WireFormatException.Reason.CORRUPT_PAYLOAD,
          "record on " + topic + " has " + data.length + " bytes, fewer than the 5-byte header");
    }
    if (data[0] != MAGIC) {
      throw new WireFormatException(
          WireFormatException.Reason.UNKNOWN_MAGIC_BYTE,
          "record on "
              + topic
              + " starts with byte "
              + data[0]
              + ", expected 0 (Confluent wire format)");
    }
    int id = ByteBuffer.wrap(data, 1, 4).getInt();
    SpecificDatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, null);
    try {
      T value = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new WireFormatException(
            WireFormatException.Reason.CORRUPT_PAYLOAD,
            "record on " + topic + " with schema id " + id + " has trailing bytes");
      }
      return value;
    } catch (IOException
        | AvroRuntimeException
        | IndexOutOfBoundsException
        | NegativeArraySizeException
        | UnsupportedOperationException e) { // Avro: a length past what a Java array can hold
      throw new WireFormatException(
          WireFormatException.Reason.CORRUPT_PAYLOAD,
          "record on "
              + topic
              + " with schema id "
              + id
              + " does not decode as "
              + readerSchema.getName()
              + ": "
              + e.getClass().getSimpleName(),
          e);
    }
  }

  private SpecificDatumReader<T> readerFor(int id) {
    Schema writerSchema;
    try {
      writerSchema = registry.getById(id);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        throw new WireFormatException(
            WireFormatException.Reason.UNKNOWN_SCHEMA_ID,
            "schema id " + id + " is not in the registry",
            e);
      }
      throw new WireFormatException(
          WireFormatException.Reason.REGISTRY_UNAVAILABLE,
          "could not fetch schema id " + id + ": " + e.getMessage(),
          e);
    }
    return new SpecificDatumReader<>(writerSchema, readerSchema);
  }

  /** The generated class's schema. */
  public static Schema schemaOf(Class<? extends SpecificRecord> type) {
    try {
      return (Schema) type.getField("SCHEMA$").get(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(type.getName() + " is not an Avro-generated class", e);
    }
  }

  /**
   * The schema as other languages' clients should see it: generated classes compiled with
   * stringType=String carry {@code avro.java.string} properties, which are Java-only noise in the
   * registry and would make an otherwise identical schema a new version.
   */
  public static Schema registrable(Schema schema) {
    try {
      JsonNode tree = JSON.readTree(schema.toString());
      strip(tree);
      return new Schema.Parser().parse(tree.toString());
    } catch (IOException e) {
      throw new IllegalStateException("Avro schema JSON did not parse", e);
    }
  }

  private static void strip(JsonNode node) {
    if (node instanceof ObjectNode o) {
      o.remove("avro.java.string");
    }
    node.forEach(AvroSerde::strip);
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Built with its registry; nothing to configure.
  }

  @Override
  public void close() {
    // The registry is shared and closed by its owner.
  }
}
