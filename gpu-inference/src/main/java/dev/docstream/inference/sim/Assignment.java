package dev.docstream.inference.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/** Which worker owns which partition: as Kafka's own assignor decides it for a fresh group. */
public final class Assignment {
  private Assignment() {}

  /**
   * Runs {@link CooperativeStickyAssignor} (the workers' assignor) for {@code workers} members
   * {@code w0, w1, ...} subscribed to one topic of {@code partitions} partitions.
   *
   * @return the owning worker's index by partition
   */
  public static Map<Integer, Integer> cooperativeSticky(int partitions, int workers) {
    if (partitions < 1 || workers < 1) {
      throw new IllegalArgumentException("need at least one partition and one worker");
    }
    String topic = "extraction.requests";
    Node node = new Node(0, "localhost", 9092);
    List<PartitionInfo> infos = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      infos.add(new PartitionInfo(topic, p, node, new Node[] {node}, new Node[] {node}));
    }
    Cluster cluster = new Cluster("sim", List.of(node), infos, Set.of(), Set.of());
    Map<String, ConsumerPartitionAssignor.Subscription> members = new HashMap<>();
    for (int w = 0; w < workers; w++) {
      members.put(
          "w" + w, new ConsumerPartitionAssignor.Subscription(List.of(topic), null, List.of()));
    }
    ConsumerPartitionAssignor.GroupAssignment assigned =
        new CooperativeStickyAssignor()
            .assign(cluster, new ConsumerPartitionAssignor.GroupSubscription(members));
    Map<Integer, Integer> owner = new HashMap<>();
    assigned
        .groupAssignment()
        .forEach(
            (member, a) -> {
              for (TopicPartition tp : a.partitions()) {
                owner.put(tp.partition(), Integer.parseInt(member.substring(1)));
              }
            });
    return owner;
  }
}
