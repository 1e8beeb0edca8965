package dev.docstream.inference.engine.internal;

import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Priority;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Orders a poll's requests into adapter groups: the adapter already merged first (no swap), then
 * groups with LIVE work before REPLAY-only ones, then the group whose oldest request has waited
 * longest, so that no group starves behind bigger ones. Within a group, arrival order is kept.
 */
public final class GroupPlanner {
  private GroupPlanner() {}

  /** One adapter's requests. */
  public record Group(String documentType, List<ExtractionRequest> requests) {
    long oldestSubmittedAt() {
      return requests.stream()
          .mapToLong(r -> r.getSubmittedAt().toEpochMilli())
          .min()
          .orElse(Long.MAX_VALUE);
    }

    boolean hasLive() {
      return requests.stream().anyMatch(r -> r.getPriority() == Priority.LIVE);
    }
  }

  /**
   * @param merged the document type whose adapter is merged now, or null
   */
  public static List<Group> plan(List<ExtractionRequest> requests, String merged) {
    Map<String, List<ExtractionRequest>> byType = new LinkedHashMap<>();
    for (ExtractionRequest r : requests) {
      byType.computeIfAbsent(r.getDocumentType(), t -> new ArrayList<>()).add(r);
    }
    List<Group> groups = new ArrayList<>();
    byType.forEach((type, list) -> groups.add(new Group(type, list)));
    groups.sort(
        Comparator.comparing((Group g) -> !g.documentType().equals(merged))
            .thenComparing(g -> !g.hasLive())
            .thenComparingLong(Group::oldestSubmittedAt));
    return groups;
  }
}
