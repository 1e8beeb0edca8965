package dev.docstream.inference.worker.internal;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The poll loop's pausing of partitions: backpressure (above the buffer's high-water mark every
 * partition is paused, and resumed at half) and the replay lane (its partitions fetch only while no
 * live record waits, in the buffer or on the broker). Polling goes on while paused, so the group
 * never sees the worker as stuck.
 *
 * <p>Thread: the polling thread (it calls the consumer).
 */
final class FlowControl {
  private final PollSettings settings;
  private final Consumer<String, byte[]> consumer;
  private final PollLoop.Observer observer;
  private boolean paused;

  FlowControl(
      PollSettings settings, Consumer<String, byte[]> consumer, PollLoop.Observer observer) {
    this.settings = settings;
    this.consumer = consumer;
    this.observer = observer;
  }

  /** After each poll: pauses or resumes by what is buffered, live and replay. */
  void apply(int live, int replay) {
    if (!paused && live >= settings.bufferRecords()) {
      consumer.pause(consumer.assignment());
      paused = true;
      observer.paused(true);
    } else if (paused && live <= settings.bufferRecords() / 2) {
      consumer.resume(consumer.paused());
      paused = false;
      observer.paused(false);
    }
    if (!paused && settings.replayTopic() != null) {
      applyReplayLane(live, replay);
    }
  }

  /** pause() state does not survive a rebalance: re-applies it to what was assigned. */
  void assigned(Collection<TopicPartition> partitions) {
    if (paused) {
      consumer.pause(partitions);
    } else if (settings.replayTopic() != null) {
      consumer.pause(
          partitions.stream().filter(tp -> tp.topic().equals(settings.replayTopic())).toList());
    }
  }

  /**
   * Whether the replay lane may fetch: no live record waits in the buffer or on the broker (every
   * owned live partition's lag is known and 0) and the replay buffer has room.
   */
  private boolean replayOpen(int live, int replay) {
    if (live > 0 || replay >= settings.replayBatchRecords()) {
      return false;
    }
    for (TopicPartition tp : consumer.assignment()) {
      if (tp.topic().equals(settings.topic())) {
        OptionalLong lag = consumer.currentLag(tp);
        if (lag.isEmpty() || lag.getAsLong() > 0) {
          return false;
        }
      }
    }
    return true;
  }

  /** Pauses the replay lane's partitions unless it may fetch; resumes them when it may. */
  private void applyReplayLane(int live, int replay) {
    boolean open = replayOpen(live, replay);
    Set<TopicPartition> lane = new HashSet<>();
    for (TopicPartition tp : consumer.assignment()) {
      if (tp.topic().equals(settings.replayTopic())) {
        lane.add(tp);
      }
    }
    Set<TopicPartition> pausedNow = consumer.paused();
    if (open) {
      List<TopicPartition> resume = lane.stream().filter(pausedNow::contains).toList();
      if (!resume.isEmpty()) {
        consumer.resume(resume);
      }
    } else {
      List<TopicPartition> pause = lane.stream().filter(tp -> !pausedNow.contains(tp)).toList();
      if (!pause.isEmpty()) {
        consumer.pause(pause);
      }
    }
  }
}
