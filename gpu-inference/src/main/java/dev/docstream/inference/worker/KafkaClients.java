package dev.docstream.inference.worker;

import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Where a worker gets its Kafka clients, as Kafka Streams' {@code KafkaClientSupplier}: real
 * clients in production, {@code MockConsumer} and {@code MockProducer} in unit tests that drive the
 * failure paths (abort, producer replacement, rewind, fencing) without a broker.
 */
public interface KafkaClients {
  /** A consumer of string keys and raw values. */
  Consumer<String, byte[]> consumer(Map<String, Object> config);

  /** A (transactional) producer of string keys and raw values; called again to replace one. */
  Producer<String, byte[]> producer(Map<String, Object> config);

  /** Real Kafka clients. */
  KafkaClients REAL =
      new KafkaClients() {
        @Override
        public Consumer<String, byte[]> consumer(Map<String, Object> config) {
          return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        }

        @Override
        public Producer<String, byte[]> producer(Map<String, Object> config) {
          return new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
        }
      };
}
