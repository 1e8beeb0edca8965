package dev.docstream.inference.worker;

import dev.docstream.schemas.ExtractionResult;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What the worker does with one batch of polled records before committing it: decode, extract.
 * Every record ends as one result or one dead letter. Kafka-free, so that the worker's loop can be
 * tested with a stand-in.
 */
@FunctionalInterface
public interface BatchWork {
  /** The results (to serialise and send) and the dead letters (ready to send) of one batch. */
  record Outcome(
      List<ExtractionResult> results, List<ProducerRecord<String, byte[]>> deadLetters) {}

  /** A batch readied for the model: what is left runs on the model's thread. */
  @FunctionalInterface
  interface Prepared {
    Outcome run();
  }

  /** Processes a batch on the calling thread. */
  Outcome process(List<ConsumerRecord<String, byte[]>> records);

  /**
   * Readies a batch on the decode thread (decodes its requests and images) while the model runs the
   * batch before; by default nothing is done ahead.
   */
  default Prepared prepare(List<ConsumerRecord<String, byte[]>> records) {
    return () -> process(records);
  }
}
