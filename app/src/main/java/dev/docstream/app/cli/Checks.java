package dev.docstream.app.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** What a command checks before it starts work, so that it fails in seconds with one line. */
public final class Checks {
  /** How long a command waits for a broker or a registry to answer. */
  public static final Duration REACH_TIMEOUT = Duration.ofSeconds(10);

  private Checks() {}

  /** Fails unless a Kafka broker answers at {@code bootstrap} within {@link #REACH_TIMEOUT}. */
  public static void requireBroker(String bootstrap) {
    Map<String, Object> cfg =
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            3000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            (int) REACH_TIMEOUT.toMillis(),
            AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG,
            1000);
    try (Admin admin = Admin.create(cfg)) {
      admin.describeCluster().nodes().get(REACH_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException
        | java.util.concurrent.TimeoutException
        | org.apache.kafka.common.KafkaException e) {
      throw new UserError(
          "no Kafka broker answers at "
              + bootstrap
              + " (within "
              + REACH_TIMEOUT.toSeconds()
              + " s); start one (docstream up) or pass --bootstrap");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted while reaching " + bootstrap);
    }
  }

  /** Fails unless a schema registry answers at {@code url} (mock:// URLs are in-process). */
  public static void requireRegistry(String url) {
    if (url.startsWith("mock://")) {
      return;
    }
    try {
      HttpResponse<Void> r =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(5))
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(url.replaceAll("/+$", "") + "/subjects"))
                      .timeout(Duration.ofSeconds(5))
                      .GET()
                      .build(),
                  HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() / 100 != 2) {
        throw new UserError("the schema registry at " + url + " answered " + r.statusCode());
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new UserError(
          "no schema registry answers at " + url + "; start one (docstream up) or pass --registry");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted while reaching " + url);
    }
  }

  /** Fails unless {@code models} holds a base model. */
  public static void requireModels(Path models) {
    if (!Files.isRegularFile(models.resolve("base").resolve("model.safetensors"))) {
      throw new UserError(
          "no base model under "
              + models.resolve("base")
              + " (run from the repository root, or pass --models)");
    }
  }

  /** Fails unless {@code port} is free on localhost (0 picks a free port later). */
  public static void requireFreePort(int port, String option) {
    if (port == 0) {
      return;
    }
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", port));
    } catch (IOException e) {
      throw new UserError(
          "port "
              + port
              + " is taken; stop what listens there or pass "
              + option
              + " (0 = any free port)");
    }
  }
}
