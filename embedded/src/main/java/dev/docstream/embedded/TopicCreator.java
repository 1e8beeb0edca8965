package dev.docstream.embedded;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates topics on a cluster and waits until the broker serves every partition. */
final class TopicCreator {
  private TopicCreator() {}

  /**
   * Creates missing topics with replication factor 1 and per-topic configs (topic name to config,
   * for example {@code cleanup.policy=compact}), and waits until the broker serves them.
   */
  static void create(
      String bootstrapServers,
      Map<String, Integer> partitions,
      Map<String, Map<String, String>> configs) {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      List<NewTopic> topics =
          partitions.entrySet().stream()
              .map(
                  e ->
                      new NewTopic(e.getKey(), e.getValue(), (short) 1)
                          .configs(configs.getOrDefault(e.getKey(), Map.of())))
              .toList();
      for (var f : admin.createTopics(topics).values().entrySet()) {
        try {
          f.getValue().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "could not create topic " + f.getKey() + ": " + e.getCause(), e);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted creating topic " + f.getKey(), e);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new IllegalStateException("timed out creating topic " + f.getKey(), e);
        }
      }
      awaitOpen(admin, partitions);
    }
  }

  /**
   * Waits until the broker has opened every partition of the topics. The controller acknowledges a
   * new topic, and the broker's metadata names a leader, before the broker's replica manager has
   * opened the partition. An idempotent producer that writes in that gap gets
   * NOT_LEADER_OR_FOLLOWER on its first batch while a later one gets through; the retried first
   * batch then fails on its sequence number until the delivery timeout drops it (CI lost 57 of
   * 1,000 WorkerIT jobs that way, twice, and {@code EmbeddedKafkaBrokerIT} reproduces it). A
   * ListOffsets request is answered by the replica manager, so once it succeeds for a partition, so
   * does a write.
   */
  private static void awaitOpen(Admin admin, Map<String, Integer> partitions) {
    Map<TopicPartition, OffsetSpec> all = new HashMap<>();
    partitions.forEach(
        (topic, n) -> {
          for (int p = 0; p < n; p++) {
            all.put(new TopicPartition(topic, p), OffsetSpec.latest());
          }
        });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try {
      // First until the broker's metadata knows the topics (asking for offsets before that logs
      // an "unknown topic" error from the admin client), then until the partitions are open.
      while (!leadersKnown(admin, partitions.keySet()) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      while (true) {
        try {
          admin.listOffsets(all).all().get(10, TimeUnit.SECONDS);
          return;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "the broker did not open every partition of "
                    + partitions.keySet()
                    + " within 30 s: "
                    + e,
                e);
          }
          Thread.sleep(50); // not open yet
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(
          "interrupted waiting for the partitions of " + partitions.keySet(), e);
    }
  }

  private static boolean leadersKnown(Admin admin, java.util.Collection<String> topics)
      throws InterruptedException {
    try {
      return admin
          .describeTopics(topics)
          .allTopicNames()
          .get(10, TimeUnit.SECONDS)
          .values()
          .stream()
          .allMatch(
              d ->
                  d.partitions().stream()
                      .allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      return false; // not known to the broker yet
    }
  }
}
