package dev.docstream.app.qc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.docstream.schemas.DocumentField;
import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * An analyst played by a program, through the review service's own HTTP API (sign in, pick a queue,
 * take the next task, send a verdict): it answers from the generator's ground truth, and gets each
 * field wrong with probability {@code errorRate} (it misses a wrong value, or "corrects" a right
 * one to a wrong value). The demo runs a few of them to close the QC loop.
 */
public final class SimulatedAnalyst implements Runnable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final String name;
  private final String password;
  private final Function<String, Map<DocumentField, String>> truth;
  private final double errorRate;
  private final Random random;
  private final BooleanSupplier keepGoing;
  private final HttpClient http;
  private volatile int reviewed;
  private volatile String failure;
  private int turn;

  /**
   * @param truth the true field values of a job id; null when the job is not known (the analyst
   *     then accepts the task as it is)
   * @param keepGoing checked when the queues are empty: false ends the run
   */
  public SimulatedAnalyst(
      URI base,
      String name,
      String password,
      Function<String, Map<DocumentField, String>> truth,
      double errorRate,
      long seed,
      BooleanSupplier keepGoing) {
    this.base = base;
    this.name = name;
    this.password = password;
    this.truth = truth;
    this.errorRate = errorRate;
    this.random = new Random(seed);
    this.keepGoing = keepGoing;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1) // no h2c upgrade attempt on plain HTTP
            .cookieHandler(new CookieManager())
            .connectTimeout(Duration.ofSeconds(5))
            .build();
  }

  /** Verdicts sent. */
  public int reviewed() {
    return reviewed;
  }

  /** Why the run ended early, or null. */
  public String failure() {
    return failure;
  }

  @Override
  public void run() {
    try {
      HttpResponse<String> login =
          post("/api/login", Map.of("analyst", name, "password", password));
      if (login.statusCode() != 200) {
        failure = "sign-in refused: HTTP " + login.statusCode();
        return;
      }
      while (true) {
        String queue = openQueue();
        if (queue == null) {
          if (!keepGoing.getAsBoolean()) {
            return;
          }
          Thread.sleep(100);
          continue;
        }
        HttpResponse<String> next =
            post(
                "/api/queues/"
                    + java.net.URLEncoder.encode(queue, "UTF-8").replace("+", "%20")
                    + "/next",
                Map.of());
        if (next.statusCode() == 204) {
          Thread.sleep(50); // only others' leases left in that queue
          continue;
        }
        if (next.statusCode() != 200) {
          failure = "next task: HTTP " + next.statusCode();
          return;
        }
        JsonNode task = JSON.readTree(next.body());
        HttpResponse<String> sent =
            post("/api/tasks/" + task.get("jobId").asText() + "/verdict", answer(task));
        if (sent.statusCode() == 200 && !JSON.readTree(sent.body()).get("duplicate").asBoolean()) {
          reviewed++;
        }
      }
    } catch (IOException e) {
      failure = "review service unreachable: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A queue with work: open tasks first, else leased ones (which may be this analyst's own, from
   * before a restart), taken in turn so that one queue of others' leases does not hold it up.
   */
  private String openQueue() throws IOException, InterruptedException {
    HttpResponse<String> r =
        send(HttpRequest.newBuilder(base.resolve("/api/queues")).GET().build());
    List<String> leased = new ArrayList<>();
    for (JsonNode q : JSON.readTree(r.body()).get("queues")) {
      if (q.get("open").asInt() > 0) {
        return q.get("documentType").asText();
      }
      if (q.get("leased").asInt() > 0) {
        leased.add(q.get("documentType").asText());
      }
    }
    return leased.isEmpty() ? null : leased.get(turn++ % leased.size());
  }

  /** The verdict: the truth for each field, wrong with probability errorRate. */
  private Map<String, Object> answer(JsonNode task) {
    Map<DocumentField, String> real = truth.apply(task.get("jobId").asText());
    List<Map<String, Object>> corrections = new ArrayList<>();
    for (JsonNode f : task.get("fields")) {
      DocumentField field = DocumentField.valueOf(f.get("field").asText());
      String shown = f.get("value").asText();
      String right = real == null ? shown : Objects.requireNonNullElse(real.get(field), "");
      boolean slip = random.nextDouble() < errorRate;
      String answer = slip ? (shown.equals(right) ? right + "X" : shown) : right;
      if (!answer.equals(shown)) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("field", field.name());
        c.put("value", answer);
        corrections.add(c);
      }
    }
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("verdict", corrections.isEmpty() ? "CORRECT" : "CORRECTED");
    v.put("corrections", corrections);
    return v;
  }

  private HttpResponse<String> post(String path, Object body)
      throws IOException, InterruptedException {
    return send(
        HttpRequest.newBuilder(base.resolve(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
            .build());
  }

  /**
   * Sends a request, retried a few times on an I/O error (a kept-alive connection the server closed
   * under it): every call here is safe to repeat, a verdict included (the service answers a repeat
   * as a duplicate).
   */
  private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        if (attempt == 5) {
          throw e;
        }
        Thread.sleep(100L * attempt);
      }
    }
  }
}
