package dev.docstream.inference.worker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.DocumentField;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.testing.HostileRecords;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The worker's side of the fuzz test: 100,000 mutated extraction requests, decoded in batches as
 * the worker polls them; each record must become exactly one request or one dead letter, every dead
 * letter must fit in a record, and memory must stay bounded.
 */
class RequestDecoderFuzzTest {
  private static final String SCOPE = "request-decoder-fuzz-test";
  private static final int RECORDS = 100_000;
  private static final int MAX_RECORD_BYTES = 64 * 1024;

  private final SchemaRegistry registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);

  @AfterEach
  void drop() {
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  @Test
  void shouldTurnEveryMutatedRequestIntoARequestOrADeadLetter() {
    AvroSerde<ExtractionRequest> serde = Topics.EXTRACTION_REQUESTS.valueSerde(registry);
    AvroSerde<DeadLetter> dlq = Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry);
    RequestDecoder decoder =
        new RequestDecoder(
            serde, dlq, Topics.VERIFICATION_JOBS_DLQ.name(), MAX_RECORD_BYTES, Clock.systemUTC());
    Random rnd = new Random(7);
    String topic = Topics.EXTRACTION_REQUESTS.name();
    long decoded = 0;
    long dead = 0;
    long peakHeap = 0;
    for (int start = 0; start < RECORDS; start += 250) {
      List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
      for (int i = start; i < start + 250; i++) {
        byte[] valid = serde.serialize(topic, request(rnd, i));
        batch.add(
            new ConsumerRecord<>(
                topic, 0, i, "GBR-PASSPORT-2015", HostileRecords.mutate(rnd, valid)));
      }
      RequestDecoder.Decoded out = decoder.decode(batch);
      assertEquals(
          batch.size(), out.requests().size() + out.deadLetters().size(), "batch at " + start);
      for (ProducerRecord<String, byte[]> d : out.deadLetters()) {
        assertTrue(
            d.value().length + 512 <= MAX_RECORD_BYTES,
            "dead letter of " + d.value().length + " bytes");
        assertEquals("UNDECODABLE", dlq.deserialize(d.topic(), d.value()).getReason());
      }
      decoded += out.requests().size();
      dead += out.deadLetters().size();
      Runtime rt = Runtime.getRuntime();
      peakHeap = Math.max(peakHeap, rt.totalMemory() - rt.freeMemory());
    }
    System.out.printf(
        "worker fuzz: %d records -> %d requests, %d dead letters; peak heap %d MB%n",
        RECORDS, decoded, dead, peakHeap >> 20);
    assertTrue(decoded > 10_000 && dead > 50_000, decoded + " / " + dead);
    assertTrue(peakHeap < 1L << 30, "heap peaked at " + (peakHeap >> 20) + " MB");
  }

  private static ExtractionRequest request(Random rnd, int i) {
    byte[] image =
        new byte[rnd.nextInt(3) == 0 ? 80_000 : 200]; // some whose dead letter would not fit whole
    rnd.nextBytes(image);
    return ExtractionRequest.newBuilder()
        .setJobId("job-" + i)
        .setTenantId("t")
        .setDocumentType("GBR-PASSPORT-2015")
        .setImage(ByteBuffer.wrap(image))
        .setImageSha256("ab".repeat(32))
        .setRequestedFields(List.of(DocumentField.SURNAME, DocumentField.SEX))
        .setSubmittedAt(Instant.ofEpochMilli(i))
        .setAcceptedAt(Instant.ofEpochMilli(i))
        .setPriority(Priority.LIVE)
        .build();
  }
}
