package dev.docstream.inference.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.XavierInitializer;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;

/**
 * Saves and loads a model's weights as {@code model.safetensors} (parameters under their DJL paths)
 * plus {@code model.json} (its {@link ModelConfig}). The file's sha256 is the base-model checksum
 * adapters are tied to.
 */
public final class ModelCheckpoint {
  /** Weights file name inside a checkpoint folder. */
  public static final String WEIGHTS = "model.safetensors";

  /** Configuration file name inside a checkpoint folder. */
  public static final String CONFIG = "model.json";

  private ModelCheckpoint() {}

  /** Writes the model's base parameters (not its trainable LoRA ones) into {@code dir}. */
  public static void save(ExtractionModel model, Path dir) throws IOException {
    Files.createDirectories(dir);
    NDList arrays = new NDList();
    for (Pair<String, Parameter> p : model.getParameters()) {
      if (isLora(p.getKey())) {
        continue;
      }
      NDArray a = p.getValue().getArray().duplicate();
      a.setName(p.getKey());
      arrays.add(a);
    }
    Path tmp = dir.resolve(WEIGHTS + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      arrays.encode(out, NDList.Encoding.SAFETENSORS);
    } finally {
      arrays.close();
    }
    Files.move(
        tmp,
        dir.resolve(WEIGHTS),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Files.writeString(dir.resolve(CONFIG), ModelConfigJson.write(model.config()));
  }

  /** The configuration stored in a checkpoint folder. */
  public static ModelConfig readConfig(Path dir) throws IOException {
    return ModelConfigJson.read(Files.readString(dir.resolve(CONFIG)));
  }

  /**
   * Builds a model from a checkpoint: initialises every parameter, then overwrites the base ones
   * with the stored weights. Fails naming the parameter when a stored array is missing or has the
   * wrong shape.
   */
  public static void load(ExtractionModel model, Path dir, NDManager manager) throws IOException {
    model.setInitializer(new XavierInitializer(), Parameter.Type.WEIGHT);
    model.initialize(manager, DataType.FLOAT32, model.inputShape(1));
    copyInto(model, dir, manager);
  }

  /**
   * Overwrites an initialised model's base parameters with a checkpoint's; its LoRA parameters, if
   * any, are left alone.
   */
  public static void copyInto(ExtractionModel model, Path dir, NDManager manager)
      throws IOException {
    Map<String, NDArray> stored = new HashMap<>();
    try (NDManager tmp = manager.newSubManager();
        InputStream in = Files.newInputStream(dir.resolve(WEIGHTS))) {
      for (NDArray a : NDList.decode(tmp, in)) {
        stored.put(a.getName(), a);
      }
      for (Pair<String, Parameter> p : model.getParameters()) {
        if (isLora(p.getKey())) {
          continue;
        }
        NDArray a = stored.get(p.getKey());
        NDArray target = p.getValue().getArray();
        if (a == null || !a.getShape().equals(target.getShape())) {
          throw new IOException(
              dir.resolve(WEIGHTS)
                  + ": parameter "
                  + p.getKey()
                  + (a == null
                      ? " is missing"
                      : " has shape " + a.getShape() + ", expected " + target.getShape()));
        }
        target.set(a.toFloatArray());
      }
    }
  }

  /** sha256 of the weights file, hex: identifies the base model adapters were trained on. */
  public static String checksum(Path dir) throws IOException {
    try (InputStream in =
        new DigestInputStream(
            Files.newInputStream(dir.resolve(WEIGHTS)), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }

  private static boolean isLora(String parameterPath) {
    return parameterPath.endsWith("lora_A") || parameterPath.endsWith("lora_B");
  }
}
