package dev.docstream.training;

import dev.docstream.adapters.PeftAdapter;
import dev.docstream.adapters.registry.AdapterRegistry;
import dev.docstream.inference.lora.LoadedAdapter;
import dev.docstream.inference.lora.MergeEngine;
import dev.docstream.inference.model.Extractor;

/**
 * The adapters registry's evaluation gate: field exact-match of an adapter merged into the base
 * model, on held-out synthetic documents of its type (the same documents for every version of a
 * type, so two versions are compared side by side).
 */
public final class HeldOutEvaluator implements AdapterRegistry.Evaluator, AutoCloseable {
  /** Seed of the held-out documents, as {@code docstream train evaluate}'s default. */
  public static final long SEED = 99;

  private final Extractor extractor;
  private final MergeEngine merge;
  private final int documents;

  /**
   * @param extractor the base model, merged into and restored for each evaluation (the caller owns
   *     and closes it)
   * @param documents held-out documents per evaluation
   */
  public HeldOutEvaluator(Extractor extractor, int documents) {
    this.extractor = extractor;
    this.merge = new MergeEngine(extractor.block().linears(), MergeEngine.RestoreMode.EXACT);
    this.documents = documents;
  }

  @Override
  public double fieldExactMatch(PeftAdapter adapter) {
    String type = adapter.config().documentType();
    try (LoadedAdapter loaded = new LoadedAdapter(type, adapter, extractor.manager())) {
      merge.merge(loaded);
      try {
        return Evaluation.score(
                extractor,
                type,
                Evaluation.testDocuments(type, documents, SEED),
                adapter.config().fieldFormats())
            .fieldExactMatch();
      } finally {
        merge.restoreBase();
      }
    }
  }

  @Override
  public void close() {
    merge.close();
  }
}
