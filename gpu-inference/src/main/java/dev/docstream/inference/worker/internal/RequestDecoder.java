package dev.docstream.inference.worker.internal;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.errors.DeadLetterReason;
import dev.docstream.schemas.errors.DeadLetters;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns polled records into extraction requests, or into dead letters ready to send: every record
 * becomes exactly one of the two. Decoding runs under Avro's limits ({@code AvroLimits}), and a
 * dead letter that would not fit in a record goes without its original value. Only a registry
 * outage throws (it is not the record's fault: the batch is retried).
 */
public final class RequestDecoder {
  private static final Logger LOG = LoggerFactory.getLogger(RequestDecoder.class);

  private final AvroSerde<ExtractionRequest> requests;
  private final AvroSerde<DeadLetter> deadLetters;
  private final String dlqTopic;
  private final int maxRecordBytes;
  private final Clock clock;

  public RequestDecoder(
      AvroSerde<ExtractionRequest> requests,
      AvroSerde<DeadLetter> deadLetters,
      String dlqTopic,
      int maxRecordBytes,
      Clock clock) {
    this.requests = requests;
    this.deadLetters = deadLetters;
    this.dlqTopic = dlqTopic;
    this.maxRecordBytes = maxRecordBytes;
    this.clock = clock;
  }

  /** The decoded requests (in record order) and the dead letters of the rest. */
  public record Decoded(
      List<ExtractionRequest> requests, List<ProducerRecord<String, byte[]>> deadLetters) {}

  /** Decodes a batch. */
  public Decoded decode(List<ConsumerRecord<String, byte[]>> records) {
    List<ExtractionRequest> ok = new ArrayList<>(records.size());
    List<ProducerRecord<String, byte[]>> dead = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      try {
        ExtractionRequest req = requests.deserialize(r.topic(), r.value());
        if (req == null) {
          throw new WireFormatException(
              WireFormatException.Reason.CORRUPT_PAYLOAD, "record has no value");
        }
        ok.add(req);
      } catch (WireFormatException e) {
        if (e.reason() == WireFormatException.Reason.REGISTRY_UNAVAILABLE) {
          throw e;
        }
        LOG.warn(
            "request at {}-{}@{} undecodable: {}",
            r.topic(),
            r.partition(),
            r.offset(),
            e.reason());
        DeadLetter d =
            DeadLetters.of(
                null,
                DeadLetterReason.UNDECODABLE.name(),
                e.getMessage(),
                new DeadLetters.Source(r.topic(), r.partition(), r.offset()),
                clock.instant(),
                r.value());
        String key = r.key() != null && r.key().length() <= 256 ? r.key() : null;
        dead.add(
            new ProducerRecord<>(
                dlqTopic,
                key,
                DeadLetters.serialize(deadLetters, dlqTopic, key, d, maxRecordBytes)));
      }
    }
    return new Decoded(ok, dead);
  }
}
