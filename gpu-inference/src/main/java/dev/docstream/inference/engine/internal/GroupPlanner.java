package dev.docstream.inference.engine.internal;

import dev.docstream.inference.adapter.AdapterStore;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Priority;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Orders a poll's requests into adapter groups: the adapter already merged first (no swap), then
 * groups with LIVE work before REPLAY-only ones, then the group whose oldest request has waited
 * longest, so that no group starves behind bigger ones. Within a group, arrival order is kept.
 *
 * <p>A group is one adapter: a document type's canary and promoted versions form two groups.
 */
public final class GroupPlanner {
  private GroupPlanner() {}

  /** One adapter's requests (or one type's, when it has no usable adapter). */
  public record Group(
      String documentType, AdapterStore.Route route, List<ExtractionRequest> requests) {
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
   * @param router which adapter serves each request
   * @param merged the store key of the adapter merged now, or null
   */
  public static List<Group> plan(
      List<ExtractionRequest> requests,
      Function<ExtractionRequest, AdapterStore.Route> router,
      String merged) {
    Map<String, Group> byAdapter = new LinkedHashMap<>();
    for (ExtractionRequest r : requests) {
      AdapterStore.Route route = router.apply(r);
      String key =
          route.key() != null
              ? "adapter\0" + route.key()
              : "type\0" + r.getDocumentType() + "\0" + route.failure();
      byAdapter
          .computeIfAbsent(key, k -> new Group(r.getDocumentType(), route, new ArrayList<>()))
          .requests()
          .add(r);
    }
    List<Group> groups = new ArrayList<>(byAdapter.values());
    groups.sort(
        Comparator.comparing((Group g) -> merged == null || !merged.equals(g.route().key()))
            .thenComparing(g -> !g.hasLive())
            .thenComparingLong(Group::oldestSubmittedAt));
    return groups;
  }

  /** The hybrid mode's split of a plan: the groups to run merged, in order, and the small ones. */
  public record Split(List<Group> merged, List<Group> small) {}

  /**
   * Splits a plan for the hybrid mode: a group is small when it has an adapter, fewer than {@code
   * minGroup} requests and is not the adapter merged now; small groups run unmerged in mixed
   * micro-batches after the others. {@code minGroup} 0: no group is small (the merged mode).
   */
  public static Split split(List<Group> groups, int minGroup, String merged) {
    List<Group> big = new ArrayList<>();
    List<Group> small = new ArrayList<>();
    for (Group g : groups) {
      boolean isSmall =
          g.route().key() != null
              && g.requests().size() < minGroup
              && !g.route().key().equals(merged);
      (isSmall ? small : big).add(g);
    }
    return new Split(big, small);
  }
}
