package dev.docstream.adapters.registry;

import dev.docstream.schemas.AdapterManifest;
import dev.docstream.schemas.serde.AvroSerde;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the manifests topic: every type's latest committed manifest, kept up to date by a
 * background thread (no consumer group: it reads every partition from the start). Workers route
 * jobs with it, intake accepts the types it serves, and the HTTP API lists it.
 */
public final class ManifestView implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ManifestView.class);

  private final String topic;
  private final Map<String, Object> clientProps;
  private final AvroSerde<AdapterManifest> serde;
  private final List<Consumer<TypeState>> listeners = new CopyOnWriteArrayList<>();
  private final CountDownLatch caughtUp = new CountDownLatch(1);
  private final Thread thread;
  private volatile Map<String, TypeState> types = Map.of();
  private volatile KafkaConsumer<String, byte[]> consumer;
  private volatile boolean running = true;

  private ManifestView(
      Map<String, Object> clientProps, String topic, AvroSerde<AdapterManifest> serde) {
    this.clientProps = Map.copyOf(clientProps);
    this.topic = topic;
    this.serde = serde;
    this.thread = new Thread(this::run, "manifests-" + topic);
    thread.setDaemon(true);
  }

  /**
   * Starts following and waits until the topic has been read to its end as it was at the start.
   *
   * @throws RegistryException when the topic cannot be read within {@code timeout}
   */
  public static ManifestView start(
      Map<String, Object> clientProps,
      String topic,
      AvroSerde<AdapterManifest> serde,
      Duration timeout)
      throws RegistryException {
    ManifestView view = new ManifestView(clientProps, topic, serde);
    view.thread.start();
    try {
      if (!view.caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        view.close();
        throw new RegistryException(
            "could not read "
                + topic
                + " on "
                + clientProps.get("bootstrap.servers")
                + " within "
                + timeout.toSeconds()
                + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      view.close();
      throw new RegistryException("interrupted reading " + topic);
    }
    return view;
  }

  /** Every type's state now. */
  public Map<String, TypeState> types() {
    return types;
  }

  /** The types served now (with a promoted version), sorted. */
  public java.util.SortedSet<String> servedTypes() {
    java.util.SortedSet<String> out = new java.util.TreeSet<>();
    types.forEach(
        (type, state) -> {
          if (state.served()) {
            out.add(type);
          }
        });
    return out;
  }

  /** One type's state now (empty when nothing was published for it). */
  public TypeState type(String documentType) {
    TypeState t = types.get(documentType);
    return t != null ? t : TypeState.empty(documentType);
  }

  /** Calls {@code listener} with each type's new state, on the view's thread. */
  public void onChange(Consumer<TypeState> listener) {
    listeners.add(listener);
  }

  private void run() {
    while (running) {
      try (KafkaConsumer<String, byte[]> c = ManifestLog.consumer(clientProps)) {
        consumer = c;
        List<TopicPartition> parts = ManifestLog.partitions(c, topic, clientProps);
        c.assign(parts);
        c.seekToBeginning(parts);
        Map<TopicPartition, Long> end = c.endOffsets(parts, ManifestLog.TIMEOUT);
        while (running) {
          var records = c.poll(Duration.ofMillis(200));
          Map<String, TypeState> next = null;
          for (ConsumerRecord<String, byte[]> r : records) {
            AdapterManifest m = ManifestLog.decode(serde, r);
            if (m != null) {
              if (next == null) {
                next = new HashMap<>(types);
              }
              TypeState state = TypeState.of(m);
              next.put(m.getDocumentType(), state);
            }
          }
          if (next != null) {
            Map<String, TypeState> before = types;
            types = Map.copyOf(next);
            next.forEach(
                (type, state) -> {
                  if (before.get(type) != state) {
                    listeners.forEach(l -> notify(l, state));
                  }
                });
          }
          if (caughtUp.getCount() > 0
              && parts.stream().allMatch(tp -> c.position(tp) >= end.get(tp))) {
            caughtUp.countDown();
          }
        }
      } catch (WakeupException e) {
        return;
      } catch (KafkaException | RegistryException e) {
        if (!running) {
          return;
        }
        LOG.warn("reading {} failed; retrying in 1 s: {}", topic, e.toString());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  private static void notify(Consumer<TypeState> listener, TypeState state) {
    try {
      listener.accept(state);
    } catch (RuntimeException e) {
      LOG.error("a manifest listener failed for {}: {}", state.documentType(), e.toString());
    }
  }

  @Override
  public void close() {
    running = false;
    KafkaConsumer<String, byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
