package dev.docstream.inference.adapter;

import dev.docstream.adapters.AdapterFormatException;
import dev.docstream.adapters.PeftAdapter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Adapters as folders: {@code <root>/<document type>/adapter_config.json} and {@code
 * adapter_model.safetensors}, as the shipped adapters under {@code models/adapters} are laid out.
 */
public final class DirectoryAdapterStore implements AdapterStore {
  private final Path root;
  private final String baseSha256;
  private final Map<String, int[]> moduleShapes;

  /**
   * @param baseSha256 the loaded base model's checksum; adapters for other weights are refused
   * @param moduleShapes the base model's adaptable modules and their {out, in} shapes
   */
  public DirectoryAdapterStore(Path root, String baseSha256, Map<String, int[]> moduleShapes) {
    this.root = root;
    this.baseSha256 = baseSha256;
    this.moduleShapes = Map.copyOf(moduleShapes);
  }

  /** Each type has one adapter, its folder; the key is the type. */
  @Override
  public Route route(String documentType, String jobId) {
    return Route.of(documentType);
  }

  @Override
  public Optional<PeftAdapter> load(String documentType) throws AdapterFormatException {
    if (documentType.contains("/") || documentType.contains("\\") || documentType.startsWith(".")) {
      return Optional.empty(); // never a folder name outside the root
    }
    Path dir = root.resolve(documentType);
    if (!Files.isRegularFile(dir.resolve(PeftAdapter.WEIGHTS))) {
      return Optional.empty();
    }
    return Optional.of(PeftAdapter.read(dir, baseSha256, moduleShapes));
  }

  @Override
  public Set<String> documentTypes() {
    if (!Files.isDirectory(root)) {
      return Set.of();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      Set<String> types = new TreeSet<>();
      dirs.filter(d -> Files.isRegularFile(d.resolve(PeftAdapter.WEIGHTS)))
          .forEach(d -> types.add(d.getFileName().toString()));
      return types;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list adapters in " + root, e);
    }
  }
}
