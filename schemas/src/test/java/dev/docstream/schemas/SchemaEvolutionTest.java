package dev.docstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.serde.AvroSerde;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.junit.jupiter.api.Test;

/**
 * Every value schema must stay BACKWARD compatible with its released versions, kept under
 * src/test/resources/released/&lt;Name&gt;/&lt;version&gt;.avsc: a consumer on the new schema reads
 * data written with any released one. Release a version by adding its file.
 */
class SchemaEvolutionTest {

  static List<Schema> released(String name) throws IOException {
    List<Schema> out = new ArrayList<>();
    for (int v = 1; ; v++) {
      try (InputStream in =
          SchemaEvolutionTest.class.getResourceAsStream("/released/" + name + "/" + v + ".avsc")) {
        if (in == null) {
          return out;
        }
        out.add(new Schema.Parser().parse(in));
      }
    }
  }

  @Test
  void shouldKeepEveryValueSchemaBackwardCompatibleWithReleasedVersions() throws IOException {
    for (Topics.Topic<?> topic : Topics.ALL) {
      Schema current = AvroSerde.registrable(AvroSerde.schemaOf(topic.valueType()));
      List<Schema> versions = released(current.getName());
      assertFalse(
          versions.isEmpty(),
          "no released version of " + current.getName() + " under test resources");
      for (int v = 0; v < versions.size(); v++) {
        var result = SchemaCompatibility.checkReaderWriterCompatibility(current, versions.get(v));
        assertEquals(
            SchemaCompatibilityType.COMPATIBLE,
            result.getType(),
            current.getName()
                + " can no longer read released version "
                + (v + 1)
                + ": "
                + result.getResult());
      }
    }
  }

  @Test
  void shouldDetectAnIncompatibleChange() throws IOException {
    // The check above must be able to fail: a new required field without a default breaks it.
    Schema released = released("VerificationJob").get(0);
    String json =
        released
            .toString()
            .replaceFirst(
                "\"fields\":\\[", "\"fields\":[{\"name\":\"new_required\",\"type\":\"string\"},");
    Schema broken = new Schema.Parser().parse(json);
    assertNotEquals(
        SchemaCompatibilityType.COMPATIBLE,
        SchemaCompatibility.checkReaderWriterCompatibility(broken, released).getType());
  }

  @Test
  void shouldDocumentEveryField() {
    for (Topics.Topic<?> topic : Topics.ALL) {
      for (Schema.Field f : AvroSerde.schemaOf(topic.valueType()).getFields()) {
        assertTrue(
            f.doc() != null && !f.doc().isBlank(),
            topic.name() + " field " + f.name() + " has no doc");
      }
    }
  }
}
