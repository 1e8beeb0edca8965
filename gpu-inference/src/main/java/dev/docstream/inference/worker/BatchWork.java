package dev.docstream.inference.worker;

import dev.docstream.schemas.ExtractionResult;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What the inference thread does with one batch of polled records before committing it: decode,
 * extract. Every record ends as one result or one dead letter. Kafka-free, so that the worker's
 * loop can be tested with a stand-in.
 */
@FunctionalInterface
public interface BatchWork {
  /** The results (to serialise and send) and the dead letters (ready to send) of one batch. */
  record Outcome(
      List<ExtractionResult> results, List<ProducerRecord<String, byte[]>> deadLetters) {}

  Outcome process(List<ConsumerRecord<String, byte[]>> records);
}
