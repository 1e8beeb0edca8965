package dev.docstream.topology.intake;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.utils.Utils;

/**
 * The record key intake gives a request. A document type is its key, so all its jobs land on one
 * partition and one worker keeps its adapter merged; a hot type (Zipf's head) would then be served
 * by one worker only. A hot type configured with N shards is keyed {@code TYPE#k}, k from the job
 * id's murmur2 hash mod N, so its jobs spread over up to N partitions and workers; each shard keeps
 * adapter locality (the worker queues by the type before the '#'). Cold types keep one key.
 */
public final class KeyShards {
  /** The most shards a type may have. */
  public static final int MAX_SHARDS = 1024;

  private static final KeyShards NONE = new KeyShards(Map.of());

  private final Map<String, Integer> shards;

  private KeyShards(Map<String, Integer> shards) {
    this.shards = Map.copyOf(shards);
  }

  /** No hot types: every type is its own key. */
  public static KeyShards none() {
    return NONE;
  }

  /**
   * Parses {@code TYPE:SHARDS} entries (the config's list).
   *
   * @throws ConfigException naming the bad entry
   */
  public static KeyShards parse(String key, List<String> entries) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String e : entries) {
      int colon = e.lastIndexOf(':');
      int n;
      try {
        n = colon < 1 ? -1 : Integer.parseInt(e.substring(colon + 1).trim());
      } catch (NumberFormatException x) {
        n = -1;
      }
      if (n < 1 || n > MAX_SHARDS) {
        throw new ConfigException(
            key, e, "expected TYPE:SHARDS with SHARDS from 1 to " + MAX_SHARDS);
      }
      out.put(e.substring(0, colon).trim(), n);
    }
    return out.isEmpty() ? NONE : new KeyShards(out);
  }

  /** The key of a job of this type: the type, or {@code TYPE#k} for a hot type. */
  public String key(String documentType, String jobId) {
    Integer n = shards.get(documentType);
    if (n == null || n == 1) {
      return documentType;
    }
    int k = Utils.toPositive(Utils.murmur2(jobId.getBytes(StandardCharsets.UTF_8))) % n;
    return documentType + "#" + k;
  }

  /** Shards of a type (1 for a cold one). */
  public int shards(String documentType) {
    return shards.getOrDefault(documentType, 1);
  }

  /**
   * The shards to configure where traffic is measured: a type gets enough that each shard's share
   * keeps one worker at most {@code utilisation} busy, {@code ceil(rate / (capacity x
   * utilisation))}; types that need one are left out. As config entries, busiest first.
   *
   * @param jobsPerSecond the measured rate of each type
   * @param workerJobsPerSecond what one worker serves of one type, alone
   */
  public static List<String> suggest(
      Map<String, Double> jobsPerSecond, double workerJobsPerSecond, double utilisation) {
    if (workerJobsPerSecond <= 0 || utilisation <= 0 || utilisation > 1) {
      throw new IllegalArgumentException("capacity must be > 0 and utilisation in (0, 1]");
    }
    List<Map.Entry<String, Double>> busiest = new ArrayList<>(jobsPerSecond.entrySet());
    busiest.sort(Collections.reverseOrder(Map.Entry.comparingByValue()));
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Double> e : busiest) {
      int n = (int) Math.ceil(e.getValue() / (workerJobsPerSecond * utilisation));
      if (n > 1) {
        out.add(e.getKey() + ":" + Math.min(MAX_SHARDS, n));
      }
    }
    return out;
  }
}
