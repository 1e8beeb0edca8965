package dev.docstream.app.replay;

import dev.docstream.app.LoadGenerator;
import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.Priority;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.training.Progress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Replays a slice of a topic (the dead letters, or the jobs themselves) into intake's replay input
 * {@code verification.jobs.replay} as REPLAY jobs, exactly once per replay id: it reads with the
 * consumer group {@code docstream-replay-<id>} and writes each batch of replayed jobs and the
 * group's offsets in one Kafka transaction (transactional id {@code docstream-replay-<id>}), so a
 * replay that is run again resumes where it stopped and never submits a job twice. It stops at the
 * end the source had when it started.
 *
 * <p>A replayed job gets the id {@link #derivedId}, priority REPLAY, {@code replay_of} = the
 * original id, and a new submitted-at; intake routes it into the replay lane.
 */
public final class Replay {
  /** Where a replay reads. */
  public enum Source {
    /** {@code verification.jobs.dlq}: dead letters with their original value. */
    DLQ,
    /** {@code verification.jobs}: jobs already processed, for example to re-extract a type. */
    JOBS
  }

  /**
   * What to replay.
   *
   * @param reasons dead-letter reasons to take (empty: all); DLQ only
   * @param documentTypes document types to take (empty: all)
   * @param since record timestamps from (null: the start)
   * @param until record timestamps before (null: no end)
   */
  public record Selection(
      Source source,
      Set<String> reasons,
      Set<String> documentTypes,
      Instant since,
      Instant until) {}

  /**
   * What a run did.
   *
   * @param read source records read in this run
   * @param submitted replayed jobs written (in a dry run: that would be written)
   * @param skipped records not taken, by why
   */
  public record Outcome(long read, long submitted, Map<String, Long> skipped, boolean dryRun) {}

  private Replay() {}

  /** The id of a replayed job: the original's, with the replay id, at most 256 characters. */
  public static String derivedId(String originalJobId, String replayId) {
    String id = originalJobId + "~replay:" + replayId;
    if (id.length() <= 256) {
      return id;
    }
    return sha256(id).substring(0, 32) + "~replay:" + replayId;
  }

  /** A replayed copy of a job. */
  public static VerificationJob replayed(VerificationJob original, String replayId, Instant now) {
    return VerificationJob.newBuilder(original)
        .setJobId(derivedId(original.getJobId(), replayId))
        .setPriority(Priority.REPLAY)
        .setReplayOf(original.getJobId())
        .setSubmittedAt(now)
        .build();
  }

  /**
   * Runs (or, {@code dryRun}, counts) a replay.
   *
   * @param clientProps {@code bootstrap.servers} and any security settings
   * @param ratePerSecond 0 for as fast as possible
   */
  public static Outcome run(
      Map<String, Object> clientProps,
      SchemaRegistry registry,
      String replayId,
      Selection selection,
      double ratePerSecond,
      boolean dryRun,
      Clock clock) {
    String topic =
        selection.source() == Source.DLQ
            ? Topics.VERIFICATION_JOBS_DLQ.name()
            : Topics.VERIFICATION_JOBS.name();
    AvroSerde<VerificationJob> jobs = Topics.VERIFICATION_JOBS.valueSerde(registry);
    AvroSerde<DeadLetter> deadLetters = Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry);
    Map<String, Object> c = new HashMap<>(clientProps);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "docstream-replay-" + replayId);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
    Map<String, Object> p = new HashMap<>(clientProps);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "docstream-replay-" + replayId);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    Map<String, Long> skipped = new TreeMap<>();
    long read = 0;
    long submitted = 0;
    try (KafkaConsumer<String, byte[]> consumer =
            new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        KafkaProducer<String, byte[]> producer =
            dryRun
                ? null
                : new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      if (producer != null) {
        producer.initTransactions(); // fences an earlier run of the same replay
      }
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo i : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        parts.add(new TopicPartition(topic, i.partition()));
      }
      consumer.assign(parts);
      Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(30));
      Map<TopicPartition, OffsetAndMetadata> committed =
          consumer.committed(Set.copyOf(parts), Duration.ofSeconds(30));
      long total = 0;
      Map<TopicPartition, Long> from = new HashMap<>();
      for (TopicPartition tp : parts) {
        OffsetAndMetadata o = committed.get(tp);
        if (o == null) {
          consumer.seekToBeginning(List.of(tp));
        } else {
          consumer.seek(tp, o.offset());
        }
        from.put(tp, consumer.position(tp));
        total += end.get(tp) - from.get(tp);
      }
      Progress progress = new Progress("replay " + replayId + " (source offsets)", total);
      long start = System.nanoTime();
      while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
        if (records.isEmpty()) {
          continue;
        }
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() >= end.get(tp)) {
            continue; // written after the replay started: not in its slice
          }
          read++;
          String why = null;
          VerificationJob job = null;
          if (!inRange(r.timestamp(), selection)) {
            why = "outside the time range";
          } else if (selection.source() == Source.DLQ) {
            DeadLetter d = decode(deadLetters, r.topic(), r.value());
            if (d == null) {
              why = "undecodable dead letter";
            } else if (!selection.reasons().isEmpty()
                && !selection.reasons().contains(d.getReason())) {
              why = "other reason";
            } else if (d.getOriginalValue() == null) {
              why = "no original value";
            } else {
              job = decode(jobs, Topics.VERIFICATION_JOBS.name(), bytes(d.getOriginalValue()));
              why = job == null ? "original value undecodable" : null;
            }
          } else {
            job = decode(jobs, r.topic(), r.value());
            why = job == null ? "undecodable job" : null;
          }
          if (why == null && job.getPriority() == Priority.REPLAY) {
            why = "a replayed job (never replayed again)";
          }
          if (why == null
              && !selection.documentTypes().isEmpty()
              && !selection.documentTypes().contains(job.getDocumentType())) {
            why = "other document type";
          }
          if (why != null) {
            skipped.merge(why, 1L, Long::sum);
            continue;
          }
          VerificationJob copy = replayed(job, replayId, clock.instant());
          String jobsTopic = Topics.VERIFICATION_JOBS_REPLAY.name();
          out.add(
              new ProducerRecord<>(jobsTopic, copy.getJobId(), jobs.serialize(jobsTopic, copy)));
        }
        submitted += out.size();
        if (producer != null) {
          producer.beginTransaction();
          out.forEach(producer::send);
          Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
          for (TopicPartition tp : parts) {
            offsets.put(tp, new OffsetAndMetadata(Math.min(consumer.position(tp), end.get(tp))));
          }
          producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
          producer.commitTransaction();
          pace(submitted, ratePerSecond, start);
        }
        long offsets = 0; // offsets passed, transaction markers included
        for (TopicPartition tp : parts) {
          offsets += Math.min(consumer.position(tp), end.get(tp)) - from.get(tp);
        }
        progress.update(offsets, (dryRun ? "would submit " : "submitted ") + submitted);
      }
      progress.update(total, (dryRun ? "would submit " : "submitted ") + submitted);
    }
    return new Outcome(read, submitted, skipped, dryRun);
  }

  private static boolean inRange(long timestamp, Selection s) {
    return (s.since() == null || timestamp >= s.since().toEpochMilli())
        && (s.until() == null || timestamp < s.until().toEpochMilli());
  }

  /**
   * Sleeps until {@code done} jobs are due at {@code ratePerSecond} since {@code start} (0: no
   * cap).
   */
  public static void pace(long done, double ratePerSecond, long start) {
    if (ratePerSecond <= 0) {
      return;
    }
    long due = start + (long) (done / ratePerSecond * 1e9);
    long wait = due - System.nanoTime();
    if (wait > 0) {
      try {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static <T extends org.apache.avro.specific.SpecificRecord> T decode(
      AvroSerde<T> serde, String topic, byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      return serde.deserialize(topic, value);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  static String sha256(String text) {
    return LoadGenerator.sha256(text.getBytes(StandardCharsets.UTF_8));
  }
}
