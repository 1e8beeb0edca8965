package dev.docstream.adapters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header of
 * {@code name -> dtype, shape, data_offsets}, then the raw little-endian bytes), float32 only.
 * Written here in plain Java so that the registry can validate adapters without a native engine;
 * the files are the ones Hugging Face's safetensors and PEFT read.
 */
public final class Safetensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_HEADER = 16 * 1024 * 1024;

  private Safetensors() {}

  /**
   * Writes tensors (sorted by name, as the reference implementation does) with optional metadata.
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    Map<String, Tensor> sorted = new TreeMap<>(tensors);
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (var e : sorted.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      var shape = t.putArray("shape");
      for (int d : e.getValue().shape()) {
        shape.add(d);
      }
      long size = 4L * e.getValue().data().length;
      t.putArray("data_offsets").add(offset).add(offset + size);
      offset += size;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (OutputStream out = Files.newOutputStream(tmp)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(json);
      out.write(" ".repeat(padded - json.length).getBytes(StandardCharsets.US_ASCII));
      for (Tensor t : sorted.values()) {
        ByteBuffer b = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(t.data());
        out.write(b.array());
      }
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads every tensor, checking the header against the file; fails naming the file and problem.
   */
  public static Map<String, Tensor> read(Path file) throws AdapterFormatException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new AdapterFormatException(file, "cannot be read: " + e.getMessage(), e);
    }
    if (bytes.length < 8) {
      throw new AdapterFormatException(
          file, "truncated: " + bytes.length + " bytes, no header length");
    }
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 2 || headerLength > MAX_HEADER || 8 + headerLength > bytes.length) {
      throw new AdapterFormatException(
          file,
          "truncated or corrupt: header length "
              + headerLength
              + " does not fit in "
              + bytes.length
              + " bytes");
    }
    JsonNode header;
    try {
      header = JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AdapterFormatException(
          file, "header is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new AdapterFormatException(file, "header cannot be read: " + e.getMessage(), e);
    }
    if (header == null || !header.isObject()) {
      throw new AdapterFormatException(file, "header is not a JSON object");
    }
    int dataStart = 8 + (int) headerLength;
    long dataLength = bytes.length - dataStart;
    Map<String, Tensor> out = new LinkedHashMap<>();
    long expectedEnd = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      var e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode t = e.getValue();
      if (!"F32".equals(t.path("dtype").asText())) {
        throw new AdapterFormatException(
            file,
            "tensor "
                + e.getKey()
                + " has dtype "
                + t.path("dtype").asText()
                + ", only F32 is supported");
      }
      JsonNode shapeNode = t.path("shape");
      JsonNode offsets = t.path("data_offsets");
      if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
        throw new AdapterFormatException(
            file, "tensor " + e.getKey() + " lacks shape or data_offsets");
      }
      int[] shape = new int[shapeNode.size()];
      long count = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asInt(-1);
        if (shape[i] < 0) {
          throw new AdapterFormatException(
              file, "tensor " + e.getKey() + " has a negative dimension");
        }
        count *= shape[i];
      }
      long begin = offsets.get(0).asLong(-1);
      long end = offsets.get(1).asLong(-1);
      if (begin < 0 || end < begin || end > dataLength) {
        throw new AdapterFormatException(
            file,
            "truncated: tensor "
                + e.getKey()
                + " spans bytes "
                + begin
                + ".."
                + end
                + " but the data section has "
                + dataLength);
      }
      if (end - begin != 4 * count) {
        throw new AdapterFormatException(
            file,
            "tensor "
                + e.getKey()
                + " has "
                + (end - begin)
                + " bytes, its shape needs "
                + 4 * count);
      }
      expectedEnd = Math.max(expectedEnd, end);
      float[] data = new float[(int) count];
      ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) (end - begin))
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(data);
      out.put(e.getKey(), new Tensor(shape, data));
    }
    if (expectedEnd != dataLength) {
      throw new AdapterFormatException(
          file, "data section has " + dataLength + " bytes, tensors cover " + expectedEnd);
    }
    return out;
  }
}
