package dev.docstream.app.qc;

import com.sun.net.httpserver.HttpServer;
import dev.docstream.topology.qc.review.QualityFigures;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The quality figures as Prometheus metrics, recomputed at each scrape. Tags stay bounded: the
 * {@code topK} most reviewed document types get their own tags (with adapter version and sample),
 * the rest are summed under {@code document_type="other"} in the task counts only.
 */
final class QcMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Supplier<QualityFigures.Figures> figures;
  private final int topK;
  private final MultiGauge accuracy;
  private final MultiGauge reviewed;
  private final MultiGauge ece;
  private final MultiGauge tasks;
  private HttpServer server;

  QcMetrics(Supplier<QualityFigures.Figures> figures, int topK) {
    this.figures = figures;
    this.topK = topK;
    accuracy =
        MultiGauge.builder("docstream.qc.accuracy")
            .description(
                "Field accuracy by analysts' verdicts (all fields), per adapter version and sample")
            .register(registry);
    reviewed =
        MultiGauge.builder("docstream.qc.reviewed.fields")
            .description("Fields reviewed, per adapter version and sample")
            .register(registry);
    ece =
        MultiGauge.builder("docstream.qc.calibration.error")
            .description("Expected calibration error of the confidences against verdicts")
            .register(registry);
    tasks =
        MultiGauge.builder("docstream.qc.tasks")
            .description("Review tasks by state")
            .register(registry);
  }

  /** Recomputes the gauges from the figures now. */
  void refresh() {
    QualityFigures.Figures f = figures.get();
    Map<String, Integer> byType = new HashMap<>();
    for (QualityFigures.Row r : f.rows()) {
      if (r.field().equals(QualityFigures.ALL_FIELDS)) {
        byType.merge(r.documentType(), r.reviewed(), Integer::sum);
      }
    }
    Set<String> top =
        byType.entrySet().stream()
            .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()))
            .limit(topK)
            .map(Map.Entry::getKey)
            .collect(Collectors.toSet());
    List<MultiGauge.Row<?>> acc = new ArrayList<>();
    List<MultiGauge.Row<?>> rev = new ArrayList<>();
    Map<String, String> typeOfAdapter = new HashMap<>();
    for (QualityFigures.Row r : f.rows()) {
      typeOfAdapter.put(r.adapterId(), r.documentType());
      if (!r.field().equals(QualityFigures.ALL_FIELDS) || !top.contains(r.documentType())) {
        continue;
      }
      Tags tags = tags(r.documentType(), r.adapterVersion(), r.sample());
      acc.add(MultiGauge.Row.of(tags, r.accuracy()));
      rev.add(MultiGauge.Row.of(tags, r.reviewed()));
    }
    List<MultiGauge.Row<?>> cal = new ArrayList<>();
    for (QualityFigures.Calibration c : f.calibration()) {
      String type = typeOfAdapter.get(c.adapterId());
      if (type != null && top.contains(type)) {
        String version =
            c.adapterId().contains("@")
                ? c.adapterId().substring(c.adapterId().indexOf('@') + 1)
                : "none";
        cal.add(
            MultiGauge.Row.of(
                Tags.of("document_type", type, "adapter_version", version, "sample", c.sample()),
                c.ece()));
      }
    }
    List<MultiGauge.Row<?>> t = new ArrayList<>();
    f.tasks().forEach((state, n) -> t.add(MultiGauge.Row.of(Tags.of("state", state), n)));
    accuracy.register(acc, true);
    reviewed.register(rev, true);
    ece.register(cal, true);
    tasks.register(t, true);
  }

  private static Tags tags(String type, Integer version, String sample) {
    return Tags.of(
        "document_type",
        type,
        "adapter_version",
        version == null ? "none" : String.valueOf(version),
        "sample",
        sample);
  }

  /** The scrape text (after a refresh). */
  String scrape() {
    refresh();
    return registry.scrape();
  }

  /** Serves {@code /metrics} on {@code port} (0 any); returns the port. */
  int serve(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    server.createContext(
        "/metrics",
        exchange -> {
          byte[] body = scrape().getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.stop(0);
    }
    registry.close();
  }
}
