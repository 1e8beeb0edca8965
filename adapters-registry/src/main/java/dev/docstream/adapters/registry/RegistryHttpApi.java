package dev.docstream.adapters.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.docstream.adapters.AdapterConfig;
import dev.docstream.adapters.PeftAdapter;
import dev.docstream.schemas.AdapterVersion;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeMap;

/**
 * A read-only HTTP API over the registry, for tools:
 *
 * <ul>
 *   <li>{@code GET /adapters}: every document type with its promoted and canary versions;
 *   <li>{@code GET /adapters/<type>}: one type with all its versions;
 *   <li>{@code GET /blobs/<uri>/<file>}: a stored file ({@code adapter_config.json} or {@code
 *       adapter_model.safetensors}) of a blob, by its URI ({@code sha256:<digest>}).
 * </ul>
 *
 * Changes go through the {@code docstream adapters} commands only.
 */
public final class RegistryHttpApi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> FILES = Set.of(AdapterConfig.FILE, PeftAdapter.WEIGHTS);

  private final ManifestView view;
  private final BlobStore blobs;
  private final HttpServer server;

  private RegistryHttpApi(ManifestView view, BlobStore blobs, HttpServer server) {
    this.view = view;
    this.blobs = blobs;
    this.server = server;
  }

  /** Serves on {@code port} (0 = any free one) of {@code host}. */
  public static RegistryHttpApi serve(ManifestView view, BlobStore blobs, String host, int port)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
    RegistryHttpApi api = new RegistryHttpApi(view, blobs, server);
    server.createContext("/adapters", api::adapters);
    server.createContext("/blobs/", api::blob);
    server.start();
    return api;
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  private void adapters(HttpExchange x) throws IOException {
    if (!"GET".equals(x.getRequestMethod())) {
      send(x, 405, error("only GET: changes go through docstream adapters"));
      return;
    }
    String path = x.getRequestURI().getPath();
    if (path.equals("/adapters") || path.equals("/adapters/")) {
      ObjectNode out = JSON.createObjectNode();
      new TreeMap<>(view.types()).forEach((type, state) -> out.set(type, summary(state)));
      send(x, 200, out);
      return;
    }
    String type = URLDecoder.decode(path.substring("/adapters/".length()), StandardCharsets.UTF_8);
    TypeState state = view.types().get(type);
    if (state == null) {
      send(x, 404, error("no adapter was published for " + type));
      return;
    }
    ObjectNode out = summary(state);
    ArrayNode versions = out.putArray("versions");
    for (AdapterVersion v : state.versions()) {
      ObjectNode n = versions.addObject();
      n.put("adapter_id", new AdapterId(type, v.getVersion()).toString());
      n.put("version", v.getVersion());
      n.put("status", v.getStatus().name());
      n.put("base_model_id", v.getBaseModelId());
      n.put("base_model_sha256", v.getBaseModelSha256());
      n.put("rank", v.getRank());
      n.put("alpha", v.getAlpha());
      n.put("blob_uri", v.getBlobUri());
      n.put("blob_sha256", v.getBlobSha256());
      n.put("config_sha256", v.getConfigSha256());
      n.put("size_bytes", v.getSizeBytes());
      n.put("created_at", v.getCreatedAt().toString());
      ObjectNode metrics = n.putObject("metrics");
      v.getMetrics().forEach(metrics::put);
    }
    send(x, 200, out);
  }

  private static ObjectNode summary(TypeState state) {
    ObjectNode n = JSON.createObjectNode();
    n.put("document_type", state.documentType());
    putVersion(n, "promoted", state.promoted(), state.documentType());
    putVersion(n, "canary", state.canary(), state.documentType());
    n.put("canary_share", state.canaryShare());
    n.put("served", state.served());
    n.put("retired", state.retired());
    n.put("versions_count", state.versions().size());
    state.latest().ifPresent(m -> n.put("last_change", m.getChange().name()));
    return n;
  }

  private static void putVersion(ObjectNode n, String key, Integer v, String type) {
    if (v == null) {
      n.putNull(key);
    } else {
      n.put(key, new AdapterId(type, v).toString());
    }
  }

  private void blob(HttpExchange x) throws IOException {
    String rest = x.getRequestURI().getPath().substring("/blobs/".length());
    int slash = rest.lastIndexOf('/');
    String file = slash < 0 ? "" : rest.substring(slash + 1);
    if (!"GET".equals(x.getRequestMethod()) || slash < 0 || !FILES.contains(file)) {
      send(x, 404, error("GET /blobs/<uri>/" + FILES));
      return;
    }
    Path dir;
    try {
      dir = blobs.fetch(URLDecoder.decode(rest.substring(0, slash), StandardCharsets.UTF_8));
    } catch (FileNotFoundException e) {
      send(x, 404, error(e.getMessage()));
      return;
    }
    Path f = dir.resolve(file);
    x.getResponseHeaders().add("Content-Type", "application/octet-stream");
    x.sendResponseHeaders(200, Files.size(f));
    try (OutputStream out = x.getResponseBody()) {
      Files.copy(f, out);
    }
  }

  private static ObjectNode error(String message) {
    return JSON.createObjectNode().put("error", message);
  }

  private static void send(HttpExchange x, int status, ObjectNode body) throws IOException {
    byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
    x.getResponseHeaders().add("Content-Type", "application/json");
    x.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = x.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
