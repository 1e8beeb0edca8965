package dev.docstream.adapters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A LoRA adapter in PEFT's folder format: {@code adapter_config.json} and {@code
 * adapter_model.safetensors} with PEFT's key names, {@code base_model.model.<module>.lora_A.weight}
 * (r x in) and {@code ...lora_B.weight} (out x r).
 *
 * @param modules per adapted module path, its A and B
 */
public record PeftAdapter(AdapterConfig config, Map<String, LoraPair> modules) {
  /** Weights file name inside an adapter folder. */
  public static final String WEIGHTS = "adapter_model.safetensors";

  private static final String PREFIX = "base_model.model.";

  /** One module's low-rank pair. */
  public record LoraPair(Tensor a, Tensor b) {}

  public PeftAdapter {
    modules = Map.copyOf(modules);
  }

  /** Bytes of adapter weights (float32). */
  public long sizeBytes() {
    long n = 0;
    for (LoraPair p : modules.values()) {
      n += 4L * (p.a().data().length + p.b().data().length);
    }
    return n;
  }

  /** Writes the folder (created if needed). */
  public void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    config.write(dir);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    modules.forEach(
        (module, pair) -> {
          tensors.put(PREFIX + module + ".lora_A.weight", pair.a());
          tensors.put(PREFIX + module + ".lora_B.weight", pair.b());
        });
    Safetensors.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
  }

  /**
   * Reads and validates an adapter folder against the base model it will be merged into.
   *
   * @param baseModelSha256 the base weights' sha256; the adapter must name the same
   * @param moduleShapes each adaptable module's weight shape {out, in}
   * @throws AdapterFormatException naming the file and the problem: bad JSON, truncated file,
   *     missing or unexpected tensors, wrong shapes, non-finite values, another base model
   */
  public static PeftAdapter read(Path dir, String baseModelSha256, Map<String, int[]> moduleShapes)
      throws AdapterFormatException {
    return read(dir, baseModelSha256, moduleShapes, AdapterConfig.Defaults.NONE);
  }

  /**
   * Reads and validates an adapter folder, as DocStream or Python PEFT writes it; see {@link
   * AdapterConfig#read(Path, java.util.Set, AdapterConfig.Defaults)}.
   *
   * @param defaults the document type and base checksum where the config has no {@code docstream_}
   *     keys
   */
  public static PeftAdapter read(
      Path dir,
      String baseModelSha256,
      Map<String, int[]> moduleShapes,
      AdapterConfig.Defaults defaults)
      throws AdapterFormatException {
    AdapterConfig config = AdapterConfig.read(dir, moduleShapes.keySet(), defaults);
    if (!config.baseModelSha256().equals(baseModelSha256)) {
      throw new AdapterFormatException(
          dir.resolve(AdapterConfig.FILE),
          "was trained on base model "
              + abbreviate(config.baseModelSha256())
              + " but the loaded base model is "
              + abbreviate(baseModelSha256));
    }
    Path file = dir.resolve(WEIGHTS);
    Map<String, Tensor> tensors = new HashMap<>(Safetensors.read(file));
    Map<String, LoraPair> modules = new LinkedHashMap<>();
    for (String module : config.targetModules()) {
      int[] shape = moduleShapes.get(module);
      if (shape == null) {
        throw new AdapterFormatException(
            dir.resolve(AdapterConfig.FILE),
            "target module '" + module + "' is not in the base model");
      }
      Tensor a = tensors.remove(PREFIX + module + ".lora_A.weight");
      Tensor b = tensors.remove(PREFIX + module + ".lora_B.weight");
      if (a == null || b == null) {
        throw new AdapterFormatException(file, "missing lora_A or lora_B for module " + module);
      }
      int[] wantA = {config.rank(), shape[1]};
      int[] wantB = {shape[0], config.rank()};
      if (!Arrays.equals(a.shape(), wantA) || !Arrays.equals(b.shape(), wantB)) {
        throw new AdapterFormatException(
            file,
            "module "
                + module
                + " has lora_A "
                + Arrays.toString(a.shape())
                + " and lora_B "
                + Arrays.toString(b.shape())
                + ", expected "
                + Arrays.toString(wantA)
                + " and "
                + Arrays.toString(wantB));
      }
      checkFinite(file, module + ".lora_A", a);
      checkFinite(file, module + ".lora_B", b);
      modules.put(module, new LoraPair(a, b));
    }
    if (!tensors.isEmpty()) {
      throw new AdapterFormatException(
          file, "unexpected tensors not listed in target_modules: " + tensors.keySet());
    }
    return new PeftAdapter(config, modules);
  }

  private static void checkFinite(Path file, String name, Tensor t) throws AdapterFormatException {
    for (int i = 0; i < t.data().length; i++) {
      if (!Float.isFinite(t.data()[i])) {
        throw new AdapterFormatException(
            file, name + " holds a non-finite value (" + t.data()[i] + ") at index " + i);
      }
    }
  }

  private static String abbreviate(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) + "…" : sha;
  }
}
