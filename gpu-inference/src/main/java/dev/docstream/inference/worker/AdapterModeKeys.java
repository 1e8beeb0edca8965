package dev.docstream.inference.worker;

import dev.docstream.inference.engine.EngineOptions;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/** The worker's keys for how adapters are applied; part of {@link WorkerConfig}'s definition. */
public final class AdapterModeKeys {
  public static final String ADAPTER_MODE_CONFIG = "inference.adapter.mode";
  public static final String HYBRID_MIN_GROUP_CONFIG = "inference.hybrid.min.group";

  private AdapterModeKeys() {}

  static ConfigDef define(ConfigDef def) {
    return def.define(
            ADAPTER_MODE_CONFIG,
            Type.STRING,
            "MERGED",
            ConfigDef.ValidString.in("MERGED", "HYBRID"),
            Importance.MEDIUM,
            "MERGED: each adapter group merged, a swap between groups; HYBRID: groups smaller than "
                + HYBRID_MIN_GROUP_CONFIG
                + " run unmerged in mixed micro-batches on the base weights.")
        .define(
            HYBRID_MIN_GROUP_CONFIG,
            Type.INT,
            8,
            ConfigDef.Range.between(1, 10_000),
            Importance.LOW,
            "With the HYBRID mode: the smallest group of one adapter in a batch that is merged.");
  }

  /** The options with the configured adapter mode. */
  static EngineOptions apply(WorkerConfig config, EngineOptions options) {
    return options.withAdapterMode(
        EngineOptions.AdapterMode.valueOf(config.getString(ADAPTER_MODE_CONFIG)),
        config.getInt(HYBRID_MIN_GROUP_CONFIG));
  }
}
