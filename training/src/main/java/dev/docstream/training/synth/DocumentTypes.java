package dev.docstream.training.synth;

import java.util.ArrayList;
import java.util.List;

/** The catalogue of synthetic document type ids: every country x kind x issue year. */
public final class DocumentTypes {
  private DocumentTypes() {}

  /** First and last issue years in the catalogue. */
  public static final int FIRST_YEAR = 2000;

  public static final int LAST_YEAR = 2024;

  /** All ids, in a stable order (about 6,500 of them). */
  public static List<String> catalog() {
    List<String> ids = new ArrayList<>();
    for (String country : Vocabulary.COUNTRIES) {
      for (String kind : Vocabulary.DOCUMENT_KINDS) {
        for (int year = FIRST_YEAR; year <= LAST_YEAR; year++) {
          ids.add(country + "-" + kind + "-" + year);
        }
      }
    }
    return List.copyOf(ids);
  }

  /**
   * Held-out document types for adapters, spread over countries and kinds: every 97th id of the
   * held-out split, in catalogue order.
   */
  public static List<String> heldOut(int count) {
    List<String> held = catalog().stream().filter(id -> !isBaseTrainingType(id)).toList();
    List<String> out = new ArrayList<>();
    for (int i = 0; out.size() < count && i < held.size() * 97; i += 97) {
      String id = held.get(i % held.size());
      if (!out.contains(id)) {
        out.add(id);
      }
    }
    return List.copyOf(out);
  }

  /**
   * Document types the base model is trained on: every type whose id hashes into the training
   * share. The rest are held out for adapters, so the base model never sees them.
   */
  public static boolean isBaseTrainingType(String id) {
    return Math.floorMod(DocumentTypeSpec.stableSeed("split:" + id), 4) != 0;
  }
}
