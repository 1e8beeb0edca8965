package dev.docstream.app;

import dev.docstream.adapters.registry.AdapterId;
import dev.docstream.adapters.registry.AdapterRegistry;
import dev.docstream.adapters.registry.RegistryException;
import dev.docstream.adapters.registry.TypeState;
import dev.docstream.inference.adapter.DirectoryAdapterStore;
import dev.docstream.inference.model.Extractor;
import dev.docstream.inference.model.ModelCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Publishes and promotes the shipped adapters ({@code models/adapters}) into a registry that has
 * none of them yet, so every path in the product goes through the registry. A type the registry
 * already knows is left as it is: a restart publishes nothing.
 */
public final class ShippedAdapters {
  private ShippedAdapters() {}

  /** Largest adapter weights file {@code publish} accepts by default: 256 MiB. */
  public static final long MAX_BYTES = 256L << 20;

  /**
   * @return the adapter ids published now (empty when the registry had them all)
   */
  public static List<String> publishMissing(AdapterRegistry registry, Path baseModel, Path adapters)
      throws RegistryException {
    Map<String, TypeState> known = registry.list();
    List<String> missing = new ArrayList<>();
    for (String type : new DirectoryAdapterStore(adapters, "", Map.of()).documentTypes()) {
      if (!known.containsKey(type)) {
        missing.add(type);
      }
    }
    if (missing.isEmpty()) {
      return List.of();
    }
    String sha;
    Map<String, int[]> shapes;
    try (Extractor extractor = Extractor.load(baseModel)) {
      sha = ModelCheckpoint.checksum(baseModel);
      shapes = extractor.block().moduleShapes();
    } catch (IOException e) {
      throw new RegistryException("cannot read the base model in " + baseModel + ": " + e, e);
    }
    List<String> published = new ArrayList<>();
    for (String type : missing) {
      var m =
          registry.publish(
              new AdapterRegistry.PublishRequest(
                  adapters.resolve(type),
                  null,
                  baseModelId(sha),
                  sha,
                  shapes,
                  MAX_BYTES,
                  null,
                  0,
                  false));
      registry.promote(new AdapterId(type, m.getVersion()));
      published.add(m.getAdapterId());
    }
    return published;
  }

  /** The base model's id, as workers write it into results. */
  public static String baseModelId(String sha) {
    return "docstream-extractor@" + sha.substring(0, 12);
  }
}
