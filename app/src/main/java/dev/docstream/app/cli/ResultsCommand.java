package dev.docstream.app.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.docstream.schemas.ExtractedField;
import dev.docstream.schemas.ExtractionResult;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.serde.AvroSerde;
import dev.docstream.schemas.serde.WireFormatException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code docstream results}: reads and decodes {@code extraction.results} as a verification flow
 * would (read_committed). Results hold personal data: they go to this terminal, never to a log.
 */
@Command(
    name = "results",
    mixinStandardHelpOptions = true,
    showDefaultValues = true,
    description =
        "Read and decode extraction results: from the start (and stop at the end) or --follow; filter by "
            + "job id or document type; a table or JSON lines.")
final class ResultsCommand implements Callable<Integer> {
  @Mixin ClusterOptions cluster;

  enum Format {
    table,
    json
  }

  @Option(
      names = "--follow",
      description = "Keep reading new results until Ctrl-C (from the end, unless --from-start).")
  boolean follow;

  @Option(
      names = "--from-start",
      description = "With --follow: read the results already there first.")
  boolean fromStart;

  @Option(names = "--job-id", description = "Only this job's result.")
  String jobId;

  @Option(names = "--type", description = "Only results of this document type.")
  String type;

  @Option(
      names = "--format",
      defaultValue = "table",
      description = "table or json (one JSON object a line).")
  Format format;

  @Option(
      names = "--max",
      defaultValue = "0",
      description = "Stop after this many results; 0 = no limit.")
  int max;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    cluster.requireReachable();
    AvroSerde<ExtractionResult> serde =
        Topics.EXTRACTION_RESULTS.valueSerde(SchemaRegistries.forUrl(cluster.registry, null));
    Map<String, Object> cfg =
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            cluster.bootstrap,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false);
    PrintWriter out = spec.commandLine().getOut();
    int shown = 0;
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(cfg, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          consumer.partitionsFor(Topics.EXTRACTION_RESULTS.name(), Duration.ofSeconds(10)).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      consumer.assign(parts);
      if (follow && !fromStart) {
        consumer.seekToEnd(parts);
      } else {
        consumer.seekToBeginning(parts);
      }
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(parts));
      if (format == Format.table) {
        out.printf(
            "%-24s %-26s %-8s %-20s %s%n",
            "job id", "document type", "status", "reason / adapter", "fields");
      }
      while (follow || !caughtUp(consumer, end)) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          ExtractionResult result;
          try {
            result = serde.deserialize(r.topic(), r.value());
          } catch (WireFormatException e) {
            System.err.println(
                "result at "
                    + r.topic()
                    + "-"
                    + r.partition()
                    + "@"
                    + r.offset()
                    + " does not decode: "
                    + e.reason());
            continue;
          }
          if ((jobId != null && !jobId.equals(result.getJobId()))
              || (type != null && !type.equals(result.getDocumentType()))) {
            continue;
          }
          out.println(format == Format.json ? json(result) : row(result));
          out.flush();
          if (max > 0 && ++shown >= max) {
            return 0;
          }
        }
      }
    }
    return 0;
  }

  private static boolean caughtUp(
      KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> end) {
    Set<TopicPartition> behind =
        end.keySet().stream()
            .filter(tp -> consumer.position(tp) < end.get(tp))
            .collect(Collectors.toSet());
    return behind.isEmpty();
  }

  private static String row(ExtractionResult r) {
    String fields =
        r.getFields().stream()
            .map(f -> f.getField() + "=" + f.getValue())
            .collect(Collectors.joining(" "));
    String why =
        r.getReason() != null
            ? r.getReason()
            : r.getAdapterId() == null ? "base model" : r.getAdapterId();
    return String.format(
        "%-24s %-26s %-8s %-20s %s", r.getJobId(), r.getDocumentType(), r.getStatus(), why, fields);
  }

  private static String json(ExtractionResult r) {
    ObjectNode o =
        JSON.createObjectNode()
            .put("job_id", r.getJobId())
            .put("tenant_id", r.getTenantId())
            .put("document_type", r.getDocumentType())
            .put("status", r.getStatus().name())
            .put("reason", r.getReason())
            .put("adapter_id", r.getAdapterId())
            .put("priority", r.getPriority().name())
            .put("replay_of", r.getReplayOf())
            .put("submitted_at", r.getSubmittedAt().toString())
            .put("completed_at", r.getCompletedAt().toString());
    ArrayNode fields = o.putArray("fields");
    for (ExtractedField f : r.getFields()) {
      fields
          .addObject()
          .put("field", f.getField().name())
          .put("value", f.getValue())
          .put("confidence", f.getConfidence());
    }
    return o.toString();
  }
}
